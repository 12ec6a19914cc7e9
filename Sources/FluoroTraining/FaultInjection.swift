import Foundation

/// Deliberate failures for testing fault handling, from `FLUORO_FAULT`, e.g.
/// `FLUORO_FAULT=rank=1,step=5,kind=throw`. Kinds: `throw` (a Swift error), `crash` (SIGKILL
/// itself, as a dead node would), `hang` (stop responding; the others must not wait forever),
/// `nan` (this rank's loss becomes NaN, as a diverging run's would), `nangrad` (one gradient of
/// this rank becomes NaN while its loss stays finite, as an overflow in backward would), `diverge`
/// (after the update, one parameter of this rank changes: a replica silently diverging).
public struct FaultInjection: Equatable, Sendable {
    public enum Kind: String, Sendable { case `throw`, crash, hang, nan, nanGradient = "nangrad", diverge }

    public var rank: Int
    public var step: Int
    public var kind: Kind

    /// The error a `throw` fault raises.
    public struct InjectedFault: Error, CustomStringConvertible {
        public let rank: Int
        public let step: Int
        public var description: String { "injected fault (FLUORO_FAULT) on rank \(rank) at step \(step)" }
    }

    /// Parses `rank=R,step=K,kind=throw|crash|hang|nan|nangrad|diverge`; nil when the text is empty or malformed.
    public static func parse(_ text: String?) -> FaultInjection? {
        guard let text, !text.isEmpty else { return nil }
        var fields: [String: String] = [:]
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2 { fields[kv[0]] = kv[1] }
        }
        guard let rank = fields["rank"].flatMap(Int.init), let step = fields["step"].flatMap(Int.init),
              let kind = Kind(rawValue: fields["kind"] ?? "throw") else { return nil }
        return FaultInjection(rank: rank, step: step, kind: kind)
    }

    /// The fault configured in this process's environment, if any.
    public static let fromEnvironment = parse(ProcessInfo.processInfo.environment["FLUORO_FAULT"])

    /// True when this rank's gradients must be poisoned at this step (`nangrad`).
    public func poisonsGradient(rank: Int, step: Int) -> Bool {
        kind == .nanGradient && rank == self.rank && step == self.step
    }

    /// True when this rank's parameters must be nudged after this step's update (`diverge`).
    public func divergesParameters(rank: Int, step: Int) -> Bool {
        kind == .diverge && rank == self.rank && step == self.step
    }

    /// Fires the fault if it targets this rank and step; returns true when the loss must be poisoned (`nan`).
    @discardableResult
    public func fire(rank: Int, step: Int) throws -> Bool {
        guard rank == self.rank, step == self.step else { return false }
        switch kind {
        case .throw: throw InjectedFault(rank: rank, step: step)
        case .crash: kill(getpid(), SIGKILL)
        case .hang: while true { sleep(60) }
        case .nan: return true
        case .nanGradient, .diverge: return false  // see `poisonsGradient`, `divergesParameters`
        }
        return false
    }
}
