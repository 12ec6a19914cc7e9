import Foundation

/// Why a U-Net configuration or model file cannot be used.
public enum UNetError: Error, CustomStringConvertible, Equatable {
    case badConfig(String)
    case notALabeller(file: String, reason: String)
    case frameSize(width: Int, height: Int, reason: String)

    public var description: String {
        switch self {
        case let .badConfig(reason): return "U-Net config: \(reason)"
        case let .notALabeller(file, reason):
            return "\(file) is not a Fluoro U-Net labeller: \(reason); make one with `fluoro train-labeller` (its <run>/labeller.safetensors)"
        case let .frameSize(width, height, reason): return "frame \(width)x\(height): \(reason)"
        }
    }
}

/// The shape of the vesselness U-Net (METHOD §9): `channels.count` levels, each two conv3x3 + ReLU
/// and a 2x2 max-pool down; a bottleneck of two conv3x3 + ReLU; per level back up a bilinear x2,
/// concatenation with the level's skip and two conv3x3 + ReLU; a 1x1 conv to one logit.
public struct UNetConfig: Codable, Equatable, Sendable {
    /// Channels of the levels, finest first (the paper: 16, 32, 64, 128).
    public var channels: [Int]
    /// Channels of the bottleneck (the paper: 256).
    public var bottleneck: Int

    public init(channels: [Int] = [16, 32, 64, 128], bottleneck: Int = 256) {
        self.channels = channels; self.bottleneck = bottleneck
    }

    /// METHOD §9's network.
    public static let standard = UNetConfig()
    /// A two-level toy for gradient checks and CLI tests.
    public static let tiny = UNetConfig(channels: [3, 4], bottleneck: 5)

    /// The preset of this name (`standard` or `tiny`).
    public static func preset(_ name: String) throws -> UNetConfig {
        switch name {
        case "standard": return .standard
        case "tiny": return .tiny
        default: throw UNetError.badConfig("unknown preset '\(name)' (standard or tiny)")
        }
    }

    /// Levels (max-pools): frame sides must be multiples of 2^levels.
    public var levels: Int { channels.count }
    /// 2^levels: 16 for the standard network.
    public var divisor: Int { 1 << levels }

    public func validate() throws {
        guard !channels.isEmpty, channels.count <= 8 else { throw UNetError.badConfig("1 to 8 levels, got \(channels.count)") }
        guard (channels + [bottleneck]).allSatisfy({ $0 >= 1 && $0 <= 4096 }) else {
            throw UNetError.badConfig("channels must be in 1...4096, got \(channels) and bottleneck \(bottleneck)")
        }
    }

    /// Checks that a [height, width] input fits (both multiples of `divisor`, at least one divisor).
    public func checkInput(width: Int, height: Int) throws {
        guard width >= divisor, height >= divisor, width % divisor == 0, height % divisor == 0 else {
            throw UNetError.frameSize(width: width, height: height,
                                      reason: "the U-Net takes sides that are positive multiples of \(divisor) (pad the frame first)")
        }
    }
}
