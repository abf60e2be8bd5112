/// Where the aggregator's HTTP server listens and what it shows.
public struct HTTPConfiguration: Sendable, Equatable {
    /// The host to bind (`127.0.0.1` by default: loopback only).
    public var host: String
    /// The port to bind; 0 lets the kernel choose (logged once bound).
    public var port: Int
    /// Whether `/metrics` has the per-item series (progress and expected progress of
    /// every milestone and indicator); off for very large plans.
    public var itemMetrics: Bool = true
    /// The address operators reach the server at, for links in alerts (nil: made from
    /// host and port).
    public var publicURL: String?
    /// How long the Server-Sent Events stream may be quiet before a heartbeat comment.
    public var sseHeartbeat: Duration = .seconds(10)
    /// How many documents an SSE client may fall behind before it is ended (it resumes
    /// with `Last-Event-ID`).
    public var sseLimit: Int = 4_096

    public init(host: String = "127.0.0.1", port: Int = 7480) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` (`127.0.0.1:7480`, `[::1]:7480`, `0.0.0.0:80`); nil for
    /// `none` (no HTTP server). Throws a message that says what was expected.
    public static func parse(_ text: String) throws(HTTPConfigurationError) -> HTTPConfiguration? {
        if text == "none" { return nil }
        var host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw HTTPConfigurationError("`\(text)`: an IPv6 address is written [ADDRESS]:PORT, e.g. [::1]:7480")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw HTTPConfigurationError("`\(text)` has no port: write HOST:PORT, e.g. 127.0.0.1:7480, or `none` for no HTTP server")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty else { throw HTTPConfigurationError("`\(text)` has no host: write 127.0.0.1:PORT for loopback, 0.0.0.0:PORT for every interface") }
        guard let port = Int(portText), (0...65_535).contains(port) else {
            throw HTTPConfigurationError("`\(portText)` in `\(text)` is not a port (0–65535)")
        }
        return HTTPConfiguration(host: String(host), port: port)
    }

    /// Whether the server is reachable from this machine only: reads then need no
    /// credential (writes always do).
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// `HOST:PORT` as given to ``parse(_:)``.
    public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

public struct HTTPConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ d: String) { description = d }
}
