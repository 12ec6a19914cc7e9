import ArgumentParser
import Foundation

/// `fluoro bench`: measurements of the pieces a training step is made of. Each benchmark is a
/// subcommand in its own file (Bench<Name>Command.swift), listed here.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the parts of a training step (run under mpirun for the collectives).",
        subcommands: [BenchStepCommand.self, BenchTrackCommand.self, BenchLabelCommand.self, BenchConvCommand.self, BenchLoaderCommand.self, BenchAllreduceCommand.self,
                      BenchCheckpointCommand.self]
    )
}

/// A message or buffer size such as 4K, 64K, 1M, 16M or 1G (powers of 1024 bytes).
struct ByteSize: ExpressibleByArgument, CustomStringConvertible {
    var bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [(String, Int)] = [("KIB", 1 << 10), ("MIB", 1 << 20), ("GIB", 1 << 30),
                                      ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("B", 1)]
        var multiplier = 1, digits = Substring(text)
        for (suffix, value) in units where text.hasSuffix(suffix) {
            multiplier = value; digits = text.dropLast(suffix.count); break
        }
        guard let n = Int(digits), n > 0, n <= Int.max / multiplier else { return nil }
        bytes = n * multiplier
    }

    /// A comma-separated list of sizes, or nil naming the first bad entry.
    static func list(_ text: String) -> Result<[ByteSize], ValidationError> {
        var sizes: [ByteSize] = []
        for part in text.split(separator: ",") {
            guard let size = ByteSize(argument: String(part)) else {
                return .failure(ValidationError("'\(part)' is not a size: use a number of bytes with K, M or G (powers of 1024), e.g. 4K,64K,1M"))
            }
            sizes.append(size)
        }
        return sizes.isEmpty ? .failure(ValidationError("no sizes given")) : .success(sizes)
    }

    var description: String {
        for (suffix, value) in [("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)] where bytes >= value && bytes % value == 0 {
            return "\(bytes / value)\(suffix)"
        }
        return "\(bytes)B"
    }
}
