import ArgumentParser
import FluoroShards
import Foundation

/// `fluoro verify PATH`: checks every checksum of a dataset or shard; non-zero exit on any problem.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every checksum of a shard dataset or shard file; name the shard, sequence and stream of each problem.",
        discussion: "Exit status: 0 when everything checks, 1 when a problem was found.")

    @Argument(help: "A dataset directory (with manifest.json) or a single .flsh shard file.")
    var path: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let report = ShardVerifier.verify(URL(fileURLWithPath: path))
        if json {
            struct Output: Codable { var ok: Bool; var report: ShardVerifier.Report }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(Output(ok: report.ok, report: report)), as: UTF8.self))
        } else {
            print("checked \(report.path): \(report.shards) shard(s), \(report.sequences) sequences, \(report.frames) frames, \(report.streamsChecked) streams")
            for note in report.notes { print("note: \(note)") }
            for problem in report.problems { print("PROBLEM \(problem)") }
            if report.ok {
                print("OK")
            } else {
                let shards = Set(report.problems.map(\.shard)).sorted().joined(separator: ", ")
                print("FAILED: \(report.problems.count) problem(s) in \(shards). Restore these shards from a copy, or re-pack the sequences they hold.")
            }
        }
        if !report.ok { throw ExitCode(1) }
    }
}
