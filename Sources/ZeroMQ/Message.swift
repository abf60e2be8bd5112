/// A multipart ZeroMQ message: one or more frames delivered together.
public struct Message: Sendable, Equatable {
    /// Most messages have one frame; they are kept without an array allocation.
    enum Storage: Sendable {
        case one(Frame)
        case many([Frame])
    }

    var storage: Storage

    /// A message of the given frames.
    public init(_ frames: [Frame]) {
        storage = frames.count == 1 ? .one(frames[0]) : .many(frames)
    }

    /// A message of one frame.
    public init(_ frame: Frame) { storage = .one(frame) }

    /// A message of one frame per string.
    public init(strings: [String]) { self.init(strings.map(Frame.init)) }

    /// A message of one frame per byte array.
    public init(parts: [[UInt8]]) { self.init(parts.map { Frame($0) }) }

    /// The frames, in order.
    public var frames: [Frame] {
        get {
            switch storage {
            case .one(let f): [f]
            case .many(let fs): fs
            }
        }
        set { self = Message(newValue) }
    }

    /// The number of frames.
    public var count: Int {
        switch storage {
        case .one: 1
        case .many(let fs): fs.count
        }
    }

    /// The frame at `index`.
    public subscript(index: Int) -> Frame {
        switch storage {
        case .one(let f):
            precondition(index == 0, "Message index \(index) out of range (1 frame)")
            return f
        case .many(let fs): return fs[index]
        }
    }

    /// The identity the ZAP authenticator assigned to the sender, read from the first
    /// frame; nil when the connection was not authenticated.
    public var userID: String? { count == 0 ? nil : self[0].userID }

    /// The total payload size in bytes.
    public var byteCount: Int { frames.reduce(0) { $0 + $1.count } }

    public static func == (lhs: Message, rhs: Message) -> Bool { lhs.frames == rhs.frames }
}
