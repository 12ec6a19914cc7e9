import Foundation

/// One compressed stream in a shard: an LZ4 frame at `offset` of `length` bytes, `rawLength` decoded.
struct StreamEntry: Equatable {
    var offset: UInt64
    var length: UInt32
    var rawLength: UInt32
}

/// The LZ4 frames of one stream of one sequence: one per video frame (pixels, layers) or one in all (annotations).
struct StreamTable: Equatable {
    var kind: StreamKind
    var filter: PixelFilter
    var entries: [StreamEntry]

    var compressedBytes: Int { entries.reduce(0) { $0 + Int($1.length) } }
    var rawBytes: Int { entries.reduce(0) { $0 + Int($1.rawLength) } }
}

/// A sequence as the index records it: its description and its streams.
struct SequenceRecord: Equatable {
    var info: SequenceInfo
    var streams: [StreamTable]

    func stream(_ kind: StreamKind) -> StreamTable? { streams.first { $0.kind == kind } }

    var layerKinds: [LayerKind] {
        streams.compactMap { if case .layer(let k) = $0.kind { return k } else { return nil } }
    }
}

/// The index block of a shard (see shards/FORMAT.md): every sequence's info (JSON) and stream tables.
enum ShardIndex {
    /// Serialises the index.
    static func encode(_ records: [SequenceRecord]) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var w = ByteWriter()
        w.bytes(ShardLayout.indexMagic)
        w.u32(UInt32(records.count))
        for record in records {
            let info = Array(try encoder.encode(record.info))
            w.u32(UInt32(info.count))
            w.bytes(info)
            w.u32(UInt32(record.streams.count))
            for table in record.streams {
                w.u8(table.kind.code)
                w.u8(table.filter.rawValue)
                w.u16(0)
                w.u32(UInt32(table.entries.count))
                for e in table.entries {
                    w.u64(e.offset)
                    w.u32(e.length)
                    w.u32(e.rawLength)
                }
            }
        }
        return w.buffer
    }

    /// Parses and validates an index whose streams must lie in `streamRegion`; throws `LayoutProblem`
    /// naming the sequence. Never traps on malformed bytes.
    static func decode(_ bytes: [UInt8], streamRegion: Range<UInt64>) throws -> [SequenceRecord] {
        var r = IndexReader(bytes)
        guard Array(try r.data(4)) == ShardLayout.indexMagic else { throw LayoutProblem("index has a bad magic") }
        let count = Int(try r.u32())
        // Each sequence needs at least 8 bytes: a bound that stops absurd counts before allocating.
        guard count <= r.remaining / 8 else { throw LayoutProblem("index claims \(count) sequences in \(bytes.count) bytes") }
        var records: [SequenceRecord] = []
        records.reserveCapacity(count)
        let decoder = JSONDecoder()
        for s in 0..<count {
            let infoLength = Int(try r.u32())
            let info: SequenceInfo
            do { info = try decoder.decode(SequenceInfo.self, from: try r.data(infoLength)) } catch let p as LayoutProblem {
                throw p
            } catch {
                throw LayoutProblem("sequence \(s): info JSON does not parse (\(error))")
            }
            let record = SequenceRecord(info: info, streams: try decodeStreams(&r, sequence: s, region: streamRegion))
            if let problem = problem(in: record) { throw LayoutProblem("sequence \(s) (id \(info.id)): \(problem)") }
            records.append(record)
        }
        if r.remaining != 0 { throw LayoutProblem("index has \(r.remaining) trailing bytes") }
        return records
    }

    private static func decodeStreams(_ r: inout IndexReader, sequence s: Int, region: Range<UInt64>) throws -> [StreamTable] {
        let streamCount = Int(try r.u32())
        guard streamCount <= 16 else { throw LayoutProblem("sequence \(s): \(streamCount) streams") }
        var tables: [StreamTable] = []
        for _ in 0..<streamCount {
            let code = try r.u8()
            guard let kind = StreamKind(code: code) else { throw LayoutProblem("sequence \(s): unknown stream kind \(code)") }
            let filterCode = try r.u8()
            guard let filter = PixelFilter(rawValue: filterCode) else { throw LayoutProblem("sequence \(s): unknown filter \(filterCode)") }
            _ = try r.u16()
            let n = Int(try r.u32())
            guard n <= r.remaining / 16 else { throw LayoutProblem("sequence \(s): \(kind) claims \(n) entries past the index end") }
            var entries: [StreamEntry] = []
            entries.reserveCapacity(n)
            for k in 0..<n {
                let e = StreamEntry(offset: try r.u64(), length: try r.u32(), rawLength: try r.u32())
                let (end, overflow) = e.offset.addingReportingOverflow(UInt64(e.length))
                if overflow || e.offset < region.lowerBound || end > region.upperBound {
                    throw LayoutProblem("sequence \(s): \(kind) entry \(k) at \(e.offset)+\(e.length) lies outside the streams \(region)")
                }
                entries.append(e)
            }
            if tables.contains(where: { $0.kind == kind }) { throw LayoutProblem("sequence \(s): two \(kind) streams") }
            tables.append(StreamTable(kind: kind, filter: filter, entries: entries))
        }
        return tables
    }

    /// What is inconsistent between a record's info and its stream tables, if anything.
    static func problem(in record: SequenceRecord) -> String? {
        let info = record.info
        let t = info.frameCount, h = info.height, w = info.width
        guard t > 0, h > 0, w > 0, h <= 1 << 16, w <= 1 << 16 else { return "bad shape \(t)x\(h)x\(w)" }
        guard record.stream(.pixels) != nil else { return "no pixels stream" }
        for table in record.streams {
            switch table.kind {
            case .pixels:
                if table.entries.count != t || table.entries.contains(where: { Int($0.rawLength) != info.frameBytes }) {
                    return "pixels stream does not hold \(t) frames of \(info.frameBytes) bytes"
                }
                if table.filter == .shuffle16 && info.pixelFormat != .uint16 { return "shuffle16 filter on 8-bit pixels" }
            case .layer(let kind):
                if table.entries.count != t || table.entries.contains(where: { Int($0.rawLength) != w * h }) {
                    return "layer \(kind.rawValue) does not hold \(t) frames of \(w * h) bytes"
                }
                if table.filter != .none { return "layer \(kind.rawValue) has a pixel filter" }
            case .annotations:
                if table.entries.count != 1 { return "annotations stream has \(table.entries.count) entries, expected 1" }
            }
        }
        return nil
    }
}
