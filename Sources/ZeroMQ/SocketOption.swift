import CZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// A value that can be stored in a socket option.
public protocol SocketOptionValue: Sendable {
    /// Calls `body` with the option's wire bytes.
    func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ZMQError) -> R) throws(ZMQError) -> R
    /// Decodes the value from the bytes `zmq_getsockopt` returned.
    static func fromOptionBytes(_ bytes: UnsafeRawBufferPointer) -> Self
    /// The largest number of bytes `zmq_getsockopt` may return for this type.
    static var optionCapacity: Int { get }
}

/// A typed socket option: its libzmq number and the Swift type of its value.
///
/// ```swift
/// try socket.set(.sendHighWaterMark, 1000)
/// try socket.set(.linger, .milliseconds(200))
/// let hwm = try socket.get(.sendHighWaterMark)
/// ```
public struct SocketOption<Value: SocketOptionValue>: Sendable {
    /// libzmq's option number (`ZMQ_SNDHWM`, …).
    public let name: Int32
    /// libzmq's name for the option, used in error messages.
    public let label: String

    /// An option by its libzmq number; prefer the static members.
    public init(name: Int32, label: String) {
        self.name = name
        self.label = label
    }
}

extension Socket {
    /// Sets a socket option.
    ///
    /// - Throws: ``ZMQError/Code/invalidArgument`` naming the option when libzmq refuses
    ///   the value (out of range, or not valid for this socket type).
    public func set<V>(_ option: SocketOption<V>, _ value: V) throws(ZMQError) {
        let h = try live("setsockopt(\(option.label))")
        try value.withOptionBytes { (bytes: UnsafeRawBufferPointer) throws(ZMQError) in
            if zmq_setsockopt(h, option.name, bytes.baseAddress, bytes.count) == -1 {
                var e = ZMQError.last("setsockopt(\(option.label))")
                if e.errno == EINVAL {
                    e.message = "setsockopt(\(option.label)) on \(type): libzmq refused the value \(value) (EINVAL): out of range or not valid for this socket type"
                }
                throw e
            }
        }
    }

    /// Reads a socket option.
    public func get<V>(_ option: SocketOption<V>) throws(ZMQError) -> V {
        let h = try live("getsockopt(\(option.label))")
        var size = V.optionCapacity
        var buffer = [UInt8](repeating: 0, count: size)
        let rc = buffer.withUnsafeMutableBytes { zmq_getsockopt(h, option.name, $0.baseAddress, &size) }
        try check(rc, "getsockopt(\(option.label))")
        return buffer.withUnsafeBytes { V.fromOptionBytes(UnsafeRawBufferPointer(rebasing: $0.prefix(size))) }
    }
}

// MARK: - Value encodings

extension Int32: SocketOptionValue {
    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ZMQError) -> R) throws(ZMQError) -> R {
        var v = self
        return try Swift.withUnsafeBytes(of: &v) { (b: UnsafeRawBufferPointer) throws(ZMQError) in try body(b) }
    }
    public static func fromOptionBytes(_ bytes: UnsafeRawBufferPointer) -> Int32 { bytes.loadUnaligned(as: Int32.self) }
    public static var optionCapacity: Int { 4 }
}

extension Int64: SocketOptionValue {
    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ZMQError) -> R) throws(ZMQError) -> R {
        var v = self
        return try Swift.withUnsafeBytes(of: &v) { (b: UnsafeRawBufferPointer) throws(ZMQError) in try body(b) }
    }
    public static func fromOptionBytes(_ bytes: UnsafeRawBufferPointer) -> Int64 { bytes.loadUnaligned(as: Int64.self) }
    public static var optionCapacity: Int { 8 }
}

extension Bool: SocketOptionValue {
    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ZMQError) -> R) throws(ZMQError) -> R {
        try Int32(self ? 1 : 0).withOptionBytes(body)
    }
    public static func fromOptionBytes(_ bytes: UnsafeRawBufferPointer) -> Bool { Int32.fromOptionBytes(bytes) != 0 }
    public static var optionCapacity: Int { 4 }
}

extension Array: SocketOptionValue where Element == UInt8 {
    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ZMQError) -> R) throws(ZMQError) -> R {
        try withUnsafeBytes { b in Result { () throws(ZMQError) in try body(b) } }.get()
    }
    public static func fromOptionBytes(_ bytes: UnsafeRawBufferPointer) -> [UInt8] { Array(bytes) }
    public static var optionCapacity: Int { 256 }
}

extension String: SocketOptionValue {
    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ZMQError) -> R) throws(ZMQError) -> R {
        try Array(utf8).withOptionBytes(body)
    }
    public static func fromOptionBytes(_ bytes: UnsafeRawBufferPointer) -> String {
        // libzmq returns string options with their terminating NUL.
        let trimmed = bytes.last == 0 ? UnsafeRawBufferPointer(rebasing: bytes.dropLast()) : bytes
        return String(decoding: trimmed, as: UTF8.self)
    }
    public static var optionCapacity: Int { 1024 }
}

extension Duration: SocketOptionValue {
    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ZMQError) -> R) throws(ZMQError) -> R {
        let ms = self.components.seconds * 1000 + self.components.attoseconds / 1_000_000_000_000_000
        guard ms >= 0, ms <= Int64(Int32.max) else {
            throw ZMQError(code: .invalidArgument, operation: "setsockopt",
                           message: "setsockopt: duration \(self) is outside 0…\(Int32.max) ms")
        }
        return try Int32(ms).withOptionBytes(body)
    }
    public static func fromOptionBytes(_ bytes: UnsafeRawBufferPointer) -> Duration {
        .milliseconds(Int32.fromOptionBytes(bytes))
    }
    public static var optionCapacity: Int { 4 }
}

/// A time limit that may be infinite, as libzmq's linger and timeouts are (-1).
public enum Timeout: SocketOptionValue, Hashable, CustomStringConvertible {
    /// Wait without limit (libzmq's -1).
    case forever
    /// Wait at most this long; zero means do not wait.
    case after(Duration)

    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ZMQError) -> R) throws(ZMQError) -> R {
        switch self {
        case .forever: try Int32(-1).withOptionBytes(body)
        case .after(let d): try d.withOptionBytes(body)
        }
    }
    public static func fromOptionBytes(_ bytes: UnsafeRawBufferPointer) -> Timeout {
        let ms = Int32.fromOptionBytes(bytes)
        return ms < 0 ? .forever : .after(.milliseconds(ms))
    }
    public static var optionCapacity: Int { 4 }

    /// A limit in milliseconds.
    public static func milliseconds(_ ms: Int) -> Timeout { .after(.milliseconds(ms)) }

    public var description: String {
        switch self {
        case .forever: "forever"
        case .after(let d): "\(d)"
        }
    }
}

// MARK: - The options Koers uses

extension SocketOption where Value == Int32 {
    /// Outgoing high-water mark in messages (`ZMQ_SNDHWM`); 0 means unlimited, which
    /// Koers never uses.
    public static var sendHighWaterMark: Self { .init(name: ZMQ_SNDHWM, label: "ZMQ_SNDHWM") }
    /// Incoming high-water mark in messages (`ZMQ_RCVHWM`).
    public static var receiveHighWaterMark: Self { .init(name: ZMQ_RCVHWM, label: "ZMQ_RCVHWM") }
    /// Pending events bitmask (`ZMQ_EVENTS`: `ZMQ_POLLIN`, `ZMQ_POLLOUT`); read-only.
    public static var events: Self { .init(name: ZMQ_EVENTS, label: "ZMQ_EVENTS") }
}

extension SocketOption where Value == Int64 {
    /// Largest inbound message in bytes; bigger ones drop the connection (`ZMQ_MAXMSGSIZE`, -1 unlimited).
    public static var maxMessageSize: Self { .init(name: ZMQ_MAXMSGSIZE, label: "ZMQ_MAXMSGSIZE") }
}

extension SocketOption where Value == Timeout {
    /// How long `close` keeps undelivered messages (`ZMQ_LINGER`).
    public static var linger: Self { .init(name: ZMQ_LINGER, label: "ZMQ_LINGER") }
    /// Blocking send limit (`ZMQ_SNDTIMEO`).
    public static var sendTimeout: Self { .init(name: ZMQ_SNDTIMEO, label: "ZMQ_SNDTIMEO") }
    /// Blocking receive limit (`ZMQ_RCVTIMEO`).
    public static var receiveTimeout: Self { .init(name: ZMQ_RCVTIMEO, label: "ZMQ_RCVTIMEO") }
}

extension SocketOption where Value == Duration {
    /// First reconnect delay (`ZMQ_RECONNECT_IVL`).
    public static var reconnectInterval: Self { .init(name: ZMQ_RECONNECT_IVL, label: "ZMQ_RECONNECT_IVL") }
    /// Cap of the doubling reconnect delay (`ZMQ_RECONNECT_IVL_MAX`; zero: no doubling).
    public static var reconnectIntervalMax: Self { .init(name: ZMQ_RECONNECT_IVL_MAX, label: "ZMQ_RECONNECT_IVL_MAX") }
    /// ZMTP heartbeat PING interval (`ZMQ_HEARTBEAT_IVL`; zero: off).
    public static var heartbeatInterval: Self { .init(name: ZMQ_HEARTBEAT_IVL, label: "ZMQ_HEARTBEAT_IVL") }
    /// How long to wait for a PONG before dropping the connection (`ZMQ_HEARTBEAT_TIMEOUT`).
    public static var heartbeatTimeout: Self { .init(name: ZMQ_HEARTBEAT_TIMEOUT, label: "ZMQ_HEARTBEAT_TIMEOUT") }
    /// How long the peer may go silent before it drops us (`ZMQ_HEARTBEAT_TTL`, in
    /// 100 ms steps, at most 6553.5 s).
    public static var heartbeatTTL: Self { .init(name: ZMQ_HEARTBEAT_TTL, label: "ZMQ_HEARTBEAT_TTL") }
}

extension SocketOption where Value == Bool {
    /// Queue only to completed connections (`ZMQ_IMMEDIATE`).
    public static var immediate: Self { .init(name: ZMQ_IMMEDIATE, label: "ZMQ_IMMEDIATE") }
    /// ROUTER: fail with ``ZMQError/Code/hostUnreachable`` instead of dropping (`ZMQ_ROUTER_MANDATORY`).
    public static var routerMandatory: Self { .init(name: ZMQ_ROUTER_MANDATORY, label: "ZMQ_ROUTER_MANDATORY") }
    /// XPUB: block (or "would block") at the high-water mark instead of dropping (`ZMQ_XPUB_NODROP`).
    public static var xpubNoDrop: Self { .init(name: ZMQ_XPUB_NODROP, label: "ZMQ_XPUB_NODROP") }
    /// Whether more frames of the current message follow (`ZMQ_RCVMORE`); read-only.
    public static var receiveMore: Self { .init(name: ZMQ_RCVMORE, label: "ZMQ_RCVMORE") }
    /// Whether this socket is a CURVE server. Read-only here: become one through
    /// ``Socket/makeCurveServer(secretKey:authenticator:)``, which requires an authenticator.
    public static var curveServer: Self { .init(name: ZMQ_CURVE_SERVER, label: "ZMQ_CURVE_SERVER") }
}

extension SocketOption where Value == [UInt8] {
    /// The socket's identity as seen by a ROUTER peer (`ZMQ_ROUTING_ID`, 1–255 bytes).
    public static var routingID: Self { .init(name: ZMQ_ROUTING_ID, label: "ZMQ_ROUTING_ID") }
    /// SUB: add a prefix subscription (`ZMQ_SUBSCRIBE`); write-only.
    public static var subscribe: Self { .init(name: ZMQ_SUBSCRIBE, label: "ZMQ_SUBSCRIBE") }
    /// SUB: remove a prefix subscription (`ZMQ_UNSUBSCRIBE`); write-only.
    public static var unsubscribe: Self { .init(name: ZMQ_UNSUBSCRIBE, label: "ZMQ_UNSUBSCRIBE") }
    /// XPUB: message sent to every new subscriber (`ZMQ_XPUB_WELCOME_MSG`); write-only.
    public static var xpubWelcomeMessage: Self { .init(name: ZMQ_XPUB_WELCOME_MSG, label: "ZMQ_XPUB_WELCOME_MSG") }
}

extension SocketOption where Value == String {
    /// The ZAP domain for authentication (`ZMQ_ZAP_DOMAIN`).
    public static var zapDomain: Self { .init(name: ZMQ_ZAP_DOMAIN, label: "ZMQ_ZAP_DOMAIN") }
    /// The endpoint last bound, resolved (`ZMQ_LAST_ENDPOINT`); read-only.
    public static var lastEndpoint: Self { .init(name: ZMQ_LAST_ENDPOINT, label: "ZMQ_LAST_ENDPOINT") }
}

extension SocketOption where Value == CurvePublicKey {
    /// This socket's long-term CURVE public key (`ZMQ_CURVE_PUBLICKEY`).
    public static var curvePublicKey: Self { .init(name: ZMQ_CURVE_PUBLICKEY, label: "ZMQ_CURVE_PUBLICKEY") }
    /// A CURVE client's expectation of the server's public key (`ZMQ_CURVE_SERVERKEY`).
    public static var curveServerKey: Self { .init(name: ZMQ_CURVE_SERVERKEY, label: "ZMQ_CURVE_SERVERKEY") }
}

extension SocketOption where Value == CurveSecretKey {
    /// This socket's long-term CURVE secret key (`ZMQ_CURVE_SECRETKEY`).
    public static var curveSecretKey: Self { .init(name: ZMQ_CURVE_SECRETKEY, label: "ZMQ_CURVE_SECRETKEY") }
}
