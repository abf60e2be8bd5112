import Foundation

/// Where Koers reads the time: injectable, so history can be replayed and a demo can
/// compress time. Milliseconds since the Unix epoch, UTC.
public protocol KoersClock: Sendable {
    /// Now, in milliseconds since 1970-01-01T00:00:00Z.
    func now() -> Int64
}

/// The machine's clock.
public struct SystemClock: KoersClock {
    public init() {}
    public func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}

/// A compressed clock shared by several processes: simulated time runs `speed` times
/// faster than the wall clock from a wall-clock origin they all agree on, so their
/// clocks agree to the millisecond whatever their start-up order.
public struct SharedScaledClock: KoersClock {
    public let start: Int64
    public let speed: Double
    /// The wall-clock instant (ms since the Unix epoch) at which simulated time was `start`.
    public let originWallMs: Int64
    /// Where simulated time stands still (ms), if anywhere: a demo's processes all stop
    /// on its last day, however long a busy machine takes to read their state.
    public let stopMs: Int64?

    public init(start: Int64, speed: Double, originWallMs: Int64, stopMs: Int64? = nil) {
        self.start = start
        self.speed = speed
        self.originWallMs = originWallMs
        self.stopMs = stopMs
    }

    public func now() -> Int64 {
        let wall = Int64((Date().timeIntervalSince1970 * 1000).rounded())
        let t = start + Int64(Double(wall - originWallMs) * speed)
        return stopMs.map { min(t, $0) } ?? t
    }
}
