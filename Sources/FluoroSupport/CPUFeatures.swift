import Foundation

/// The vector instruction sets of this CPU that decide which BLAS kernel is right for it.
public struct CPUFeatures: Sendable, Equatable {
    /// The CPU model name, as the kernel reports it.
    public var modelName: String
    /// AVX2 and FMA3: Haswell-class kernels.
    public var hasAVX2: Bool
    /// AVX-512 F, CD, BW, DQ and VL: SkylakeX-class kernels.
    public var hasAVX512: Bool
    /// AVX512_BF16: bf16 dot products in AVX-512 registers (Cooper Lake, Zen 4, Sapphire Rapids).
    public var hasAVX512BF16: Bool
    /// AMX with bf16 tiles (Sapphire Rapids and later).
    public var hasAMXBF16: Bool

    public init(modelName: String, hasAVX2: Bool, hasAVX512: Bool, hasAVX512BF16: Bool = false, hasAMXBF16: Bool = false) {
        self.modelName = modelName
        self.hasAVX2 = hasAVX2
        self.hasAVX512 = hasAVX512
        self.hasAVX512BF16 = hasAVX512BF16
        self.hasAMXBF16 = hasAMXBF16
    }

    /// Reads `/proc/cpuinfo`; on systems without it, reports no vector extensions.
    public static let current: CPUFeatures = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
            return CPUFeatures(modelName: "unknown", hasAVX2: false, hasAVX512: false)
        }
        return parse(cpuinfo: text)
    }()

    /// Parses the first processor's `flags` and `model name` lines of a `/proc/cpuinfo` text.
    public static func parse(cpuinfo text: String) -> CPUFeatures {
        var flags = Set<Substring>()
        var model = "unknown"
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...]
            if key == "flags", flags.isEmpty {
                flags = Set(value.split(separator: " "))
            } else if key == "model name", model == "unknown" {
                model = value.trimmingCharacters(in: .whitespaces)
            }
        }
        let avx2 = flags.contains("avx2") && flags.contains("fma")
        let avx512 = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy { flags.contains(Substring($0)) }
        return CPUFeatures(modelName: model, hasAVX2: avx2, hasAVX512: avx512,
                           hasAVX512BF16: flags.contains("avx512_bf16"),
                           hasAMXBF16: flags.contains("amx_bf16") && flags.contains("amx_tile"))
    }

    /// A short list for people: "AVX2 AVX-512", "AVX2" or "none".
    public var summary: String {
        let names = [hasAVX2 ? "AVX2" : nil, hasAVX512 ? "AVX-512" : nil, hasAVX512BF16 ? "AVX512_BF16" : nil,
                     hasAMXBF16 ? "AMX-BF16" : nil].compactMap { $0 }
        return names.isEmpty ? "none" : names.joined(separator: " ")
    }
}
