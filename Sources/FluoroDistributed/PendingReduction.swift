/// A sum over ranks that was started and may still be running (a non-blocking all-reduce).
public protocol PendingReduction: AnyObject {
    /// Lets the reduction progress; true once it has finished (then `wait()` returns at once).
    func test() throws -> Bool
    /// Blocks until the reduction has finished and its buffer holds the sum.
    func wait() throws
}

/// A reduction that finished when it started (blocking communicators, a group of one).
public final class CompletedReduction: PendingReduction {
    public init() {}
    public func test() throws -> Bool { true }
    public func wait() throws {}
}
