import CFluoroDICOM
import Foundation

/// The process that decodes DICOM for this one (a CFluoroDICOM worker): `fluoro-dicom-decoder`
/// (else this executable) started once, fed one file at a time, and started again when a file
/// kills it, so a file that makes GDCM assert or crash is reported and the next file still reads.
/// Reads through one decoder run one at a time.
final class DICOMDecoder: @unchecked Sendable {
    let handle: OpaquePointer
    private let owned: Bool

    /// The process-wide decoder (`ClinicalIngest` reads through it); stopped at exit.
    static let shared = DICOMDecoder(handle: fluoro_dicom_worker_shared(), owned: false)

    private init(handle: OpaquePointer, owned: Bool) {
        self.handle = handle
        self.owned = owned
    }

    /// A decoder with a process of its own. `crashMarker`, for tests: a file containing these
    /// bytes crashes the process (SIGSEGV), as a codec bug would.
    convenience init?(crashMarker: String? = nil) {
        guard let handle = fluoro_dicom_worker_new(crashMarker) else { return nil }
        self.init(handle: handle, owned: true)
    }

    deinit {
        if owned { fluoro_dicom_worker_free(handle) }
    }

    /// Processes started so far: 1, plus one per restart after a crash.
    var spawns: Int { Int(fluoro_dicom_worker_spawns(handle)) }

    /// What the last process runs: `fluoro-dicom-decoder` beside this executable, else this
    /// executable ("/proc/self/exe"); "" before the first.
    var executable: String { String(cString: fluoro_dicom_worker_executable(handle)) }

    /// Starts the process now rather than at the first file, so its start-up overlaps other work.
    @discardableResult
    func start() -> Bool { fluoro_dicom_worker_start(handle) == 0 }

    /// `fluoro_dicom_read` of `data` in the process; free the result with `fluoro_dicom_free`.
    func read(_ data: Data, tags: [UInt32], flags: Int32) -> OpaquePointer? {
        data.withUnsafeBytes { raw in
            tags.withUnsafeBufferPointer { fluoro_dicom_worker_read(handle, raw.baseAddress, raw.count, $0.baseAddress, $0.count, flags) }
        }
    }
}
