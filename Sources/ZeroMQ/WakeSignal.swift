import CZeroMQ
import Glibc

/// An eventfd that one thread sleeping in ``Poller/poll(timeout:)`` is woken by from any
/// other: add ``fileDescriptor`` to the poller as readable, ``signal()`` from elsewhere,
/// ``clear()`` once woken.
public final class WakeSignal: Sendable {
    public let fileDescriptor: Int32

    public init() {
        fileDescriptor = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(fileDescriptor >= 0, "eventfd failed: errno \(errno)")
    }

    deinit { Glibc.close(fileDescriptor) }

    /// Makes the descriptor readable (thread-safe; many signals before a clear are one).
    public func signal() {
        var one: UInt64 = 1
        _ = Glibc.write(fileDescriptor, &one, 8)
    }

    /// Makes it unreadable again.
    public func clear() {
        var value: UInt64 = 0
        _ = Glibc.read(fileDescriptor, &value, 8)
    }
}
