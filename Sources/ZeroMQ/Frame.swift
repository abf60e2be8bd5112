import CZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// One frame of a ZeroMQ message, backed by a libzmq `zmq_msg_t`.
///
/// A received frame keeps libzmq's buffer: ``withUnsafeBytes(_:)`` reads it without a
/// copy, and its connection metadata (the authenticated ``userID``) stays readable.
/// Sending a frame shares its buffer with libzmq (`zmq_msg_copy`), so a frame can be
/// sent many times and stays valid afterwards. Copies of a `Frame` share one buffer.
public struct Frame: @unchecked Sendable {
    // Proof for Sendable: see Storage; ManagedBuffer itself opts out of Sendable, so the
    // claim is made here.
    let storage: Storage

    /// The `zmq_msg_t`, allocated inline with its owner object (one allocation per frame).
    final class Storage: ManagedBuffer<Void, zmq_msg_t> {
        // Safe to share across threads: the zmq_msg_t is written only when the storage is made and
        // closed only in deinit; everything else reads it. libzmq reference-counts
        // shared message content atomically, so copies on other threads are safe.
        static func make() -> Storage {
            let buffer = Storage.create(minimumCapacity: 1) { _ in () }
            return unsafeDowncast(buffer, to: Storage.self)
        }

        var msg: UnsafeMutablePointer<zmq_msg_t> { withUnsafeMutablePointerToElements { $0 } }

        deinit {
            _ = withUnsafeMutablePointerToElements { zmq_msg_close($0) }
        }
    }

    var msg: UnsafeMutablePointer<zmq_msg_t> { storage.msg }

    /// Receives into a new frame; returns nil with libzmq's errno set when the call fails.
    static func receive(from socket: UnsafeMutableRawPointer, flags: Int32) -> Frame? {
        let storage = Storage.make()
        let msg = storage.msg
        zmq_msg_init(msg)
        guard zmq_msg_recv(msg, socket, flags) >= 0 else { return nil }
        return Frame(storage: storage)
    }

    private init(storage: Storage) { self.storage = storage }

    /// A frame holding a copy of the given bytes.
    public init(copying buffer: UnsafeRawBufferPointer) {
        storage = Storage.make()
        let msg = storage.msg
        // zmq_msg_init_size fails only when out of memory, which Swift treats as fatal too.
        precondition(zmq_msg_init_size(msg, buffer.count) == 0, "zmq_msg_init_size: out of memory")
        if buffer.count > 0, let base = buffer.baseAddress {
            zmq_msg_data(msg).copyMemory(from: base, byteCount: buffer.count)
        }
    }

    /// A frame holding a copy of the given bytes.
    public init(_ bytes: some Sequence<UInt8>) {
        self = bytes.withContiguousStorageIfAvailable { Frame(copying: UnsafeRawBufferPointer($0)) }
            ?? Array(bytes).withUnsafeBytes { Frame(copying: $0) }
    }

    /// A frame holding the UTF-8 bytes of a string.
    public init(_ string: String) {
        var s = string
        self = s.withUTF8 { Frame(copying: UnsafeRawBufferPointer($0)) }
    }

    /// An empty frame (a delimiter).
    public static var empty: Frame { Frame(copying: UnsafeRawBufferPointer(start: nil, count: 0)) }

    /// Whether more frames of the same message followed this one when it was received.
    var more: Bool { zmq_msg_more(msg) == 1 }

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
