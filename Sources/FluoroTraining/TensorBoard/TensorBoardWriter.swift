import FluoroPlot
import FluoroSupport
import Foundation

/// Errors writing TensorBoard event files, naming the file and what to do.
public enum TensorBoardError: Error, CustomStringConvertible {
    case cannotCreate(path: String, reason: String)
    case writeFailed(path: String, step: Int, reason: String)

    public var description: String {
        switch self {
        case let .cannotCreate(path, reason):
            return "cannot create the TensorBoard event file \(path): \(reason); check that the run directory is writable"
        case let .writeFailed(path, step, reason):
            return "writing step \(step) to the TensorBoard event file \(path) failed: \(reason); the events before it are readable"
        }
    }
}

/// Writes one TensorBoard event file, `events.out.tfevents.<unix time>.<host>.<pid>` in a
/// directory (TensorBoard's `--logdir`): the file_version record first, then scalars and images,
/// each record written straight to the file so a crash loses at most the record being written
/// (and whole or not at all: a record that does not fit on a full disk is cut off again).
/// Every process opens a new file; TensorBoard reads all files of a directory in name order.
public final class TensorBoardWriter {
    /// The event file.
    public let url: URL
    private let file: AppendFile

    /// Creates a new event file in `directory` (created if missing). When `restartStep` is given
    /// (a resumed run), a SessionLog START event at that step follows the header: TensorBoard then
    /// drops the steps at or after it that an earlier file holds (those lost with the process).
    public init(directory: URL, restartStep: Int? = nil, now: Date = Date()) throws {
        url = try Self.newFile(in: directory, now: now)
        do { file = try AppendFile(url: url) } catch {
            throw TensorBoardError.cannotCreate(path: url.path, reason: "\(error)")
        }
        try write(TensorBoardEvent(wallTime: now.timeIntervalSince1970, step: 0, payload: .fileVersion(TensorBoardEvent.fileVersion)))
        if let restartStep {
            try write(TensorBoardEvent(wallTime: now.timeIntervalSince1970, step: Int64(restartStep), payload: .sessionStart))
        }
    }

    /// Scalars of one step, in one event.
    public func scalars(_ values: [(tag: String, value: Double)], step: Int, now: Date = Date()) throws {
        let summary = values.map { TensorBoardEvent.Value.scalar(tag: $0.tag, value: Float($0.value)) }
        try write(TensorBoardEvent(wallTime: now.timeIntervalSince1970, step: Int64(step), payload: .summary(summary)))
    }

    /// An RGB image of one step, stored as PNG.
    public func image(_ image: RGBImage, tag: String, step: Int, now: Date = Date()) throws {
        let png = try image.pngData()
        let value = TensorBoardEvent.Value.image(tag: tag, .init(width: image.width, height: image.height, png: png))
        try write(TensorBoardEvent(wallTime: now.timeIntervalSince1970, step: Int64(step), payload: .summary([value])))
    }

    /// Frames and appends one event, whole or not at all (see `AppendFile`).
    public func write(_ event: TensorBoardEvent) throws {
        do { try file.append(TFRecord.frame(event.encoded())) } catch {
            throw TensorBoardError.writeFailed(path: url.path, step: Int(event.step), reason: "\(error)")
        }
    }

    /// Every event of a file, in order (checksums verified).
    public static func read(_ url: URL) throws -> [TensorBoardEvent] {
        try TFRecord.records(in: Data(contentsOf: url), file: url.path).map { try TensorBoardEvent(decoding: $0) }
    }

    /// The event files of a directory in the order TensorBoard reads them (by name).
    public static func eventFiles(in directory: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasPrefix("events.out.tfevents.") }.sorted().map { directory.appendingPathComponent($0) }
    }

    /// A fresh file in `directory`, created exclusively; ".1", ".2"... when one process opens
    /// several in the same second (the suffix keeps the name order the opening order).
    static func newFile(in directory: URL, now: Date) throws -> URL {
        let base = String(format: "events.out.tfevents.%010d.%@.%d", Int(now.timeIntervalSince1970),
                          ProcessInfo.processInfo.hostName, Int(getpid()))
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw TensorBoardError.cannotCreate(path: directory.path, reason: error.localizedDescription)
        }
        for suffix in 0..<1000 {
            let url = directory.appendingPathComponent(suffix == 0 ? base : "\(base).\(suffix)")
            let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            if fd >= 0 { close(fd); return url }
            guard errno == EEXIST else {
                throw TensorBoardError.cannotCreate(path: url.path, reason: String(cString: strerror(errno)))
            }
        }
        throw TensorBoardError.cannotCreate(path: directory.appendingPathComponent(base).path, reason: "1000 files of that name exist")
    }
}
