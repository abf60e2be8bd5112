/// A multipart ZeroMQ message: one or more frames delivered together.
public struct Message: Sendable, Equatable {
    /// The frames, in order.
    public var frames: [Frame]

    /// A message of the given frames.
    public init(_ frames: [Frame]) { self.frames = frames }

    /// A message of one frame per string.
    public init(strings: [String]) { self.frames = strings.map(Frame.init) }

    /// A message of one frame per byte array.
    public init(parts: [[UInt8]]) { self.frames = parts.map { Frame($0) } }

    /// The number of frames.
    public var count: Int { frames.count }

    /// The frame at `index`.
    public subscript(index: Int) -> Frame { frames[index] }

    /// The identity the ZAP authenticator assigned to the sender, read from the first
    /// frame; nil when the connection was not authenticated.
    public var userID: String? { frames.first?.userID }

    /// The total payload size in bytes.
    public var byteCount: Int { frames.reduce(0) { $0 + $1.count } }
}
