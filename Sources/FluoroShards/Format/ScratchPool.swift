import Foundation

/// Reusable read buffers, so that decoding does not allocate (and page-fault) fresh memory per
/// call. Thread-safe; keeps a few buffers of each size it has handed out.
final class ScratchPool: @unchecked Sendable {
    static let shared = ScratchPool()
    private let lock = NSLock()
    private var free: [UnsafeMutableRawBufferPointer] = []
    private let keep = 16

    /// A buffer of at least `count` bytes (give it back with `give`).
    func take(_ count: Int) -> UnsafeMutableRawBufferPointer {
        lock.lock()
        if let i = free.firstIndex(where: { $0.count >= count }) {
            let buffer = free.remove(at: i)
            lock.unlock()
            return buffer
        }
        lock.unlock()
        return .allocate(byteCount: max(count, 1), alignment: 64)
    }

    /// Returns a buffer from `take`.
    func give(_ buffer: UnsafeMutableRawBufferPointer) {
        lock.lock()
        if free.count < keep {
            free.append(buffer)
            lock.unlock()
        } else {
            lock.unlock()
            buffer.deallocate()
        }
    }
}
