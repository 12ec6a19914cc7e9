import ArgumentParser
import FluoroShards
import FluoroSupport
import Foundation

/// `fluoro pack`: clinical runs (DICOM XA/RF, NumPy) into a shard dataset.
struct PackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Pack DICOM XA/RF files and NumPy [T,H,W] arrays into an LZ4 shard dataset.",
        discussion: """
            Inputs are files or directories (searched recursively; files are recognised by content, so \
            READMEs and licences are ignored). A file that cannot be read is reported and skipped, and the \
            rest are packed; the exit status is then 3 so scripts notice. Runs already in the dataset (same \
            de-identified id) are skipped, so an interrupted pack can simply be run again.
            DICOM is read by GDCM: every XA/RF transfer syntax (uncompressed little/big endian, deflated, JPEG \
            Baseline/Extended/Lossless, JPEG-LS, JPEG 2000, RLE), 8-16 bits stored, classic and Enhanced XA/XRF. \
            Colour, video syntaxes (MPEG-2, H.264, HEVC) and objects without pixels (DICOMDIR, reports) are refused.
            --annotations stores landmark annotations (tip, balloon markers, occlusion, catheter masks) with \
            the runs, from a JSON or CSV sidecar (shards/FORMAT.md §8): a file for a single input, or a \
            directory of sidecars named like the inputs (run.dcm -> run.json or run.csv). A run whose sidecar \
            does not fit it is reported and not packed.
            """)

    @Option(help: "Dataset directory to create or append to.")
    var out: String

    @Argument(help: "DICOM or .npy files, or directories of them.")
    var inputs: [String]

    @Option(help: "Target shard size in MiB.")
    var shardMb = 256

    @Option(help: ArgumentHelp("Landmark sidecar (.json/.csv) for a single input, or a directory of sidecars named like the inputs (run.dcm -> run.json).", valueName: "FILE|DIR"))
    var annotations: String?

    @Flag(help: "Accept DICOM modalities other than XA and RF.")
    var allowAnyModality = false

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give at least one input file or directory") }
        if shardMb < 1 { throw ValidationError("--shard-mb must be at least 1, got \(shardMb)") }
    }

    /// Expands directories into their candidate files; missing paths are reported as failures.
    func expandInputs() -> (files: [URL], failures: [String]) {
        var files: [URL] = []
        var failures: [String] = []
        for input in inputs {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
                failures.append("\(input): no such file or directory")
                continue
            }
            let url = URL(fileURLWithPath: input)
            if isDirectory.boolValue {
                do { files += try ClinicalIngest.candidates(in: url) } catch { failures.append("\(input): \(error)") }
            } else {
                files.append(url)
            }
        }
        return (files, failures)
    }

    func run() throws {
        let outURL = URL(fileURLWithPath: out)
        var known = Set<String>()
        if FileManager.default.fileExists(atPath: outURL.appendingPathComponent("manifest.json").path) {
            let existing = try ShardDataset(directory: outURL)
            for i in 0..<existing.sequenceCount { known.insert(existing.info(sequence: i).id) }
        }
        var (files, failures) = expandInputs()
        if files.isEmpty {
            for failure in failures { print("  " + failure) }
            throw ValidationError("no DICOM or NumPy files found in \(inputs.joined(separator: ", ")); nothing packed")
        }
        if files.contains(where: { ClinicalIngest.format(of: $0) == .dicom }) { ClinicalIngest.startDICOMDecoder() }
        let sidecars = try SidecarLookup(path: annotations, files: files)
        let writer = try ShardDatasetWriter(directory: outURL, targetShardBytes: shardMb << 20)
        let progress = ProgressLine("pack", total: files.count, unit: "files")
        var options = IngestOptions()
        options.allowAnyModality = allowAnyModality
        var packed = 0, duplicates = 0, frames = 0, rawBytes = 0
        for (i, file) in files.enumerated() {
            do {
                var sequence = try ClinicalIngest.read(file, options: options)
                if let sidecar = try sidecars.sidecar(for: file) {
                    sequence = try AnnotationSidecar.read(sidecar).applied(to: sequence)
                }
                if known.contains(sequence.info.id) {
                    duplicates += 1
                } else {
                    try writer.append(sequence)
                    known.insert(sequence.info.id)
                    packed += 1
                    frames += sequence.info.frameCount
                    rawBytes += sequence.pixels.count
                }
            } catch let error as IngestError {
                failures.append("\(error)")  // names the file
                Log.error("skipped: \(error)")
            } catch let error as AnnotationError {
                failures.append("\(file.path): not packed: \(error)")  // packed later with fixed landmarks, not skipped as a duplicate
                Log.error("skipped \(file.path): \(error)")
            }
            progress.update(i + 1, note: "\(frames) frames")
        }
        let manifest = try writer.finish()
        progress.finish()
        let storedBytes = manifest.shards.reduce(0) { $0 + Int($1.byteSize) }
        print("pack: \(packed) sequence(s), \(frames) frames (\(String(format: "%.1f", Double(rawBytes) / 1e6)) MB of pixels) into \(out); "
              + "the dataset now holds \(manifest.sequenceCount) sequences in \(manifest.shards.count) shard(s), "
              + "\(String(format: "%.1f", Double(storedBytes) / 1e6)) MB on disk")
        if duplicates > 0 { print("pack: \(duplicates) file(s) already in the dataset (same de-identified id), skipped") }
        if !failures.isEmpty {
            print("pack: \(failures.count) input(s) could not be read and were skipped:")
            for failure in failures { print("  " + failure) }
            throw ExitCode(3)
        }
    }
}
