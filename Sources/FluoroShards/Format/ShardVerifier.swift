import Foundation

/// Checks every checksum of a dataset (or of one shard file): the manifest, each shard's size and
/// XXH64, header, footer, index, and every stream (LZ4 content checksums, sizes, annotations).
/// Reports every problem it finds with its place; never throws, never crashes.
public struct ShardVerifier {
    /// One thing wrong, and where.
    public struct Problem: Codable, Equatable, Sendable, CustomStringConvertible {
        public var shard: String
        /// Dataset index of the sequence, when the problem is in one.
        public var sequenceIndex: Int?
        public var sequenceId: String?
        /// "header", "footer", "index", "manifest", "file hash", "pixels frame 3", "layer vesselness frame 0", "annotations".
        public var stream: String
        public var message: String

        public var description: String {
            ShardPlace(file: shard, sequenceIndex: sequenceIndex, sequenceId: sequenceId, stream: stream).description + ": " + message
        }
    }

    /// What was checked and what is wrong.
    public struct Report: Codable, Sendable {
        public var path: String
        public var shards = 0
        public var sequences = 0
        public var frames = 0
        /// LZ4 frames decoded and checked.
        public var streamsChecked = 0
        public var problems: [Problem] = []
        /// Harmless findings (uncommitted tails, files the manifest does not list).
        public var notes: [String] = []
        public var ok: Bool { problems.isEmpty }
    }

    /// Verifies a dataset directory or a single shard file.
    public static func verify(_ url: URL) -> Report {
        var report = Report(path: url.path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            report.problems.append(Problem(shard: url.lastPathComponent, stream: "file", message: "does not exist"))
            return report
        }
        if !isDirectory.boolValue {
            report.shards = 1
            check(url: url, entry: nil, first: 0, into: &report)
            return report
        }
        let manifest: DatasetManifest
        do {
            guard let m = try DatasetManifest.load(directory: url) else { throw ShardError.manifestMissing(directory: url.path) }
            manifest = m
        } catch {
            report.problems.append(Problem(shard: DatasetManifest.fileName, stream: "manifest", message: "\(error)"))
            return report
        }
        // Shards are independent: check them in parallel, then merge the reports in order.
        let firsts = manifest.shards.reduce(into: [0]) { $0.append($0.last! + $1.sequenceCount) }
        var parts = [Report](repeating: Report(path: url.path), count: manifest.shards.count)
        parts.withUnsafeMutableBufferPointer { slots in
            DispatchQueue.concurrentPerform(iterations: manifest.shards.count) { s in
                check(url: url.appendingPathComponent(manifest.shards[s].file), entry: manifest.shards[s], first: firsts[s], into: &slots[s])
            }
        }
        for part in parts {
            report.shards += 1
            report.sequences += part.sequences
            report.frames += part.frames
            report.streamsChecked += part.streamsChecked
            report.problems += part.problems
            report.notes += part.notes
        }
        let first = firsts.last ?? 0
        if manifest.sequenceCount != first || manifest.frameCount != manifest.shards.reduce(0, { $0 + $1.frameCount }) {
            report.problems.append(Problem(shard: DatasetManifest.fileName, stream: "manifest", message: "totals disagree with the shard entries"))
        }
        let listed = Set(manifest.shards.map(\.file) + [DatasetManifest.fileName])
        let present = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        for name in present.sorted() where !listed.contains(name) && (name.contains(".flsh") || name.hasPrefix(".")) {
            report.notes.append("\(name) is not in the manifest (left by an interrupted write; ignored by readers, removed or overwritten by the next writer)")
        }
        return report
    }

    /// Checks one shard; `entry` is its manifest line (nil for a lone file).
    static func check(url: URL, entry: DatasetManifest.Shard?, first: Int, into report: inout Report) {
        let name = url.lastPathComponent
        func add(_ stream: String, _ message: String, sequence: Int? = nil, id: String? = nil) {
            report.problems.append(Problem(shard: name, sequenceIndex: sequence, sequenceId: id, stream: stream, message: message))
        }
        if let entry {
            let size = ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.intValue
            if let size, size > entry.byteSize {
                report.notes.append("\(name): \(size - entry.byteSize) bytes after the committed end (an interrupted layer pass; ignored)")
            }
            if let size, size >= entry.byteSize {
                let fd = open(url.path, O_RDONLY | O_CLOEXEC)
                if fd >= 0 {
                    if let hash = try? ShardFile.hashPrefix(fd: fd, file: name, length: entry.byteSize), hash.digest().hex16 != entry.xxh64 {
                        add("file hash", "XXH64 \(hash.digest().hex16) differs from the manifest's \(entry.xxh64)")
                    }
                    close(fd)
                }
            }
        }
        let file: ShardFile
        do {
            file = try ShardFile(url: url, manifestBytes: entry?.byteSize, firstSequence: first)
        } catch let error as ShardError {
            report.problems.append(Self.problem(from: error, shard: name))
            return
        } catch {
            add("file", "\(error)")
            return
        }
        if let entry {
            let frames = file.records.reduce(0) { $0 + $1.info.frameCount }
            if file.records.count != entry.sequenceCount || frames != entry.frameCount {
                add("index", "holds \(file.records.count) sequences / \(frames) frames, the manifest says \(entry.sequenceCount) / \(entry.frameCount)")
            }
        }
        for (local, record) in file.records.enumerated() {
            let index = first + local
            report.sequences += 1
            report.frames += record.info.frameCount
            for table in record.streams {
                if table.kind == .annotations {
                    report.streamsChecked += 1
                    do { _ = try file.annotations(local, sequence: index) } catch let error as ShardError {
                        report.problems.append(Self.problem(from: error, shard: name))
                    } catch { add("annotations", "\(error)", sequence: index, id: record.info.id) }
                    continue
                }
                let biggest = table.entries.map { Int($0.rawLength) }.max() ?? 0
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(biggest, 1), alignment: 64)
                defer { buffer.deallocate() }
                for k in table.entries.indices {
                    report.streamsChecked += 1
                    let out = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(table.entries[k].rawLength)])
                    do { try file.decode(local, sequence: index, table: table, range: k..<(k + 1), into: out) } catch let error as ShardError {
                        report.problems.append(Self.problem(from: error, shard: name))
                    } catch { add("\(table.kind) frame \(k)", "\(error)", sequence: index, id: record.info.id) }
                }
            }
        }
    }

    /// A `ShardError` as a report line.
    static func problem(from error: ShardError, shard: String) -> Problem {
        switch error {
        case let .corruptStream(place, reason), let .corruptStructure(place, reason):
            return Problem(shard: place.file, sequenceIndex: place.sequenceIndex, sequenceId: place.sequenceId, stream: place.stream, message: reason)
        case let .cut(place, actual, expected):
            let wanted = expected.map { ", expected \($0)" } ?? ""
            return Problem(shard: place.file, sequenceIndex: place.sequenceIndex, sequenceId: place.sequenceId, stream: place.stream,
                           message: "truncated: the file has \(actual) bytes\(wanted)")
        case .shardMissing:
            return Problem(shard: shard, stream: "file", message: "missing")
        default:
            return Problem(shard: shard, stream: "file", message: error.description)
        }
    }
}
