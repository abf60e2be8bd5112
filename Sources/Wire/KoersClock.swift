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

/// A clock that runs `speed` times faster than real time from a chosen start
/// (a demo plays 2022 → 2025 in minutes). With speed 0 it stands still (tests).
public struct ScaledClock: KoersClock {
    public let start: Int64
    public let speed: Double
    let origin: ContinuousClock.Instant

    public init(start: Int64, speed: Double) {
        self.start = start
        self.speed = speed
        self.origin = .now
    }

    public func now() -> Int64 {
        let elapsed = ContinuousClock.now - origin
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        return start + Int64(ms * speed)
    }
}

/// A compressed clock shared by several processes: simulated time runs `speed` times
/// faster than the wall clock from a wall-clock origin they all agree on, so their
/// clocks agree to the millisecond whatever their start-up order.
public struct SharedScaledClock: KoersClock {
    public let start: Int64
    public let speed: Double
    /// The wall-clock instant (ms since the Unix epoch) at which simulated time was `start`.
    public let originWallMs: Int64

    public init(start: Int64, speed: Double, originWallMs: Int64) {
        self.start = start
        self.speed = speed
        self.originWallMs = originWallMs
    }

    public func now() -> Int64 {
        let wall = Int64((Date().timeIntervalSince1970 * 1000).rounded())
        return start + Int64(Double(wall - originWallMs) * speed)
    }
}
