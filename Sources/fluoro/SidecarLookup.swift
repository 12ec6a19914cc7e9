import FluoroShards
import Foundation

/// Which annotation sidecar belongs to which input of `fluoro pack --annotations PATH`:
/// - PATH is a file: it annotates the single input file (more inputs are refused).
/// - PATH is a directory: the input `run.dcm` takes `PATH/run.json` or `PATH/run.csv` (named
///   like the input without its extension); an input without one has no landmarks.
struct SidecarLookup {
    enum Rule { case none, single(URL), directory(URL) }
    let rule: Rule

    /// Resolves the rule for `path` (nil: no annotations) and the expanded input files.
    init(path: String?, files: [URL]) throws {
        guard let path else { rule = .none; return }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw AnnotationError.unreadable(sidecar: path, reason: "no such file or directory")
        }
        let url = URL(fileURLWithPath: path)
        if isDirectory.boolValue { rule = .directory(url); return }
        guard files.count == 1 else {
            throw AnnotationError.ambiguous(detail: "--annotations \(path) is one sidecar but the inputs hold \(files.count) files; "
                                            + "pack one file with it, or pass a directory of sidecars named like the inputs (run.dcm -> run.json or run.csv)")
        }
        rule = .single(url)
    }

    /// The sidecar of `input`, or nil when it has none.
    func sidecar(for input: URL) throws -> URL? {
        switch rule {
        case .none: return nil
        case .single(let url): return url
        case .directory(let directory):
            let stem = input.deletingPathExtension().lastPathComponent
            let found = ["json", "csv"].map { directory.appendingPathComponent("\(stem).\($0)") }
                .filter { FileManager.default.fileExists(atPath: $0.path) }
            if found.count > 1 {
                throw AnnotationError.ambiguous(detail: "\(directory.path) holds both \(stem).json and \(stem).csv for \(input.path); keep one")
            }
            return found.first
        }
    }
}
