import CZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// One frame of a ZeroMQ message, backed by a libzmq `zmq_msg_t`.
///
/// A received frame keeps libzmq's buffer: ``withUnsafeBytes(_:)`` reads it without a
/// copy, and its connection metadata (the authenticated ``userID``) stays readable.
/// Sending a frame shares its buffer with libzmq (`zmq_msg_copy`), so a frame can be
/// sent many times and stays valid afterwards.
public final class Frame: @unchecked Sendable {
    // Proof for Sendable: the zmq_msg_t is written only in init and closed only in
    // deinit; everything else reads it. libzmq reference-counts shared message
    // content atomically, so copies on other threads are safe.
    let msg: UnsafeMutablePointer<zmq_msg_t>

    /// Takes ownership of an initialised message.
    init(taking msg: UnsafeMutablePointer<zmq_msg_t>) {
        self.msg = msg
    }

    /// A frame holding a copy of the given bytes.
    public convenience init(copying buffer: UnsafeRawBufferPointer) {
        self.init(taking: Frame.makeMessage(copying: buffer))
    }

    /// A frame holding a copy of the given bytes.
    public convenience init(_ bytes: some Sequence<UInt8>) {
        let msg = bytes.withContiguousStorageIfAvailable { Frame.makeMessage(copying: UnsafeRawBufferPointer($0)) }
            ?? Array(bytes).withUnsafeBytes { Frame.makeMessage(copying: $0) }
        self.init(taking: msg)
    }

    /// A frame holding the UTF-8 bytes of a string.
    public convenience init(_ string: String) {
        var s = string
        self.init(taking: s.withUTF8 { Frame.makeMessage(copying: UnsafeRawBufferPointer($0)) })
    }

    /// An empty frame (a delimiter).
    public static var empty: Frame { Frame(copying: UnsafeRawBufferPointer(start: nil, count: 0)) }

    static func makeMessage(copying buffer: UnsafeRawBufferPointer) -> UnsafeMutablePointer<zmq_msg_t> {
        let msg = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
        // zmq_msg_init_size fails only when out of memory, which Swift treats as fatal too.
        precondition(zmq_msg_init_size(msg, buffer.count) == 0, "zmq_msg_init_size: out of memory")
        if buffer.count > 0, let base = buffer.baseAddress {
            zmq_msg_data(msg).copyMemory(from: base, byteCount: buffer.count)
        }
        return msg
    }

    deinit {
        zmq_msg_close(msg)
        msg.deallocate()
    }

    /// The number of bytes in the frame.
    public var count: Int { zmq_msg_size(msg) }

    /// Whether the frame is empty.
    public var isEmpty: Bool { count == 0 }

    /// Calls `body` with the frame's bytes, without copying them.
    ///
    /// The buffer is valid only inside `body`.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let size = zmq_msg_size(msg)
        return try body(UnsafeRawBufferPointer(start: size == 0 ? nil : zmq_msg_data(msg), count: size))
    }

    /// A copy of the frame's bytes.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// The frame as UTF-8 text, or nil if it is not valid UTF-8.
    public var string: String? {
        withUnsafeBytes { String(validating: $0.bindMemory(to: UInt8.self), as: UTF8.self) }
    }

    /// A metadata property of the connection the frame arrived on (`zmq_msg_gets`),
    /// such as `User-Id`, `Peer-Address` or `Socket-Type`; nil on frames built locally.
    public func property(_ name: String) -> String? {
        guard let value = zmq_msg_gets(msg, name) else { return nil }
        return String(cString: value)
    }

    /// The identity the ZAP authenticator assigned to the sender (libzmq's `User-Id`),
    /// or nil when the connection was not authenticated.
    public var userID: String? {
        guard let id = property("User-Id"), !id.isEmpty else { return nil }
        return id
    }
}

extension Frame: Equatable {
    /// Frames are equal when their bytes are.
    public static func == (lhs: Frame, rhs: Frame) -> Bool {
        lhs.withUnsafeBytes { a in rhs.withUnsafeBytes { b in a.elementsEqual(b) } }
    }
}

extension Frame: CustomStringConvertible {
    public var description: String {
        if let s = string, s.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) {
            return "\"\(s)\""
        }
        let hex = withUnsafeBytes { $0.prefix(32).map { String(format: "%02x", $0) }.joined() }
        return count > 32 ? "\(hex)… (\(count) bytes)" : hex
    }
}
