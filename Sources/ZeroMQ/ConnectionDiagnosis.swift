/// Why a connecting CURVE client is (or is not) talking to its server, from the
/// client socket's monitor events alone (``SocketMonitor``).
///
/// libzmq reconnects by itself and never returns an error for any of this; the monitor
/// is the only witness. One connect attempt runs from one `CONNECT_RETRIED` to the
/// next; what happened in between decides:
///
/// | events in one attempt | verdict |
/// |---|---|
/// | `HANDSHAKE_SUCCEEDED` | ``Verdict/connected`` |
/// | `HANDSHAKE_FAILED_AUTH` (ZAP status 400 and the like) | ``Verdict/clientKeyNotTrusted`` |
/// | `HANDSHAKE_FAILED_PROTOCOL`, or a TCP connection (`CONNECTED`) closed before any handshake succeeded | ``Verdict/serverKeyWrong`` |
/// | no TCP connection before the retry | ``Verdict/nothingListening`` |
///
/// A CURVE server that cannot open the client's HELLO box (the client holds another
/// server key) drops the connection without a word, so on the client "server key
/// wrong" is inferred: the peer accepts TCP and never completes a handshake.
///
/// ```swift
/// var diagnosis = ConnectionDiagnosis(endpoint: endpoint)
/// for try await event in monitor.events {
///     if let v = diagnosis.observe(event) { print(diagnosis.sentence) }
/// }
/// ```
public struct ConnectionDiagnosis: Sendable, Hashable {
    /// What the events say.
    public enum Verdict: String, Sendable, Hashable, CaseIterable {
        /// The handshake succeeded: the server knows this client and this client the server.
        case connected
        /// Nothing accepts TCP connections at the endpoint (wrong address or port, or the server is down).
        case nothingListening = "nothing_listening"
        /// Something accepts connections but the CURVE handshake fails: the server's public
        /// key this client holds is not the server's (or the peer is not a CURVE server).
        case serverKeyWrong = "server_key_wrong"
        /// The server refused this client's key (its authenticator does not trust it).
        case clientKeyNotTrusted = "client_key_not_trusted"
    }

    /// The endpoint the client connects to, for the sentence.
    public let endpoint: String
    /// The latest verdict; nil until the first attempt has been decided.
    public private(set) var verdict: Verdict?
    /// The ZAP status of the last authentication refusal (400: key not trusted).
    public private(set) var zapStatus: Int?
    /// The `ZMQ_PROTOCOL_ERROR_*` code of the last protocol failure, if the client saw one.
    public private(set) var protocolError: UInt32?

    // The current attempt.
    private var tcpConnected = false
    private var handshook = false
    private var failedExplicitly = false

    public init(endpoint: String) { self.endpoint = endpoint }

    /// Feeds one event; returns the verdict when it changed.
    @discardableResult
    public mutating func observe(_ event: MonitorEvent) -> Verdict? {
        switch event {
        case .connected:
            tcpConnected = true
            return nil
        case .handshakeSucceeded:
            handshook = true
            return set(.connected)
        case .handshakeFailedAuthentication(_, let status):
            zapStatus = status
            failedExplicitly = true
            return set(.clientKeyNotTrusted)
        case .handshakeFailedProtocol(_, let code):
            protocolError = code
            failedExplicitly = true
            return set(.serverKeyWrong)
        case .connectRetried:
            // The attempt is over; decide it unless it already was.
            defer { tcpConnected = false; handshook = false; failedExplicitly = false }
            // An ordinary reconnect after a working connection, or an attempt an explicit
            // failure event already decided.
            if handshook || failedExplicitly { return nil }
            protocolError = nil
            return set(tcpConnected ? .serverKeyWrong : .nothingListening)
        default:
            return nil
        }
    }

    private mutating func set(_ v: Verdict) -> Verdict? {
        guard v != verdict else { return nil }
        verdict = v
        return v
    }

    /// Whether the verdict says nothing can be delivered.
    public var isFailure: Bool { verdict != nil && verdict != .connected }

    /// A sentence for a person: what is wrong and what to do.
    public var sentence: String {
        switch verdict {
        case nil:
            return "connecting to \(endpoint); no answer yet"
        case .connected?:
            return "connected to \(endpoint): the handshake succeeded"
        case .nothingListening?:
            return "nothing is listening at \(endpoint): check the address and port, and that the aggregator runs"
        case .serverKeyWrong?:
            return "something answers at \(endpoint) but the encrypted handshake fails"
                + (protocolError.map { " (protocol error 0x\(String($0, radix: 16)))" } ?? "")
                + ": the aggregator public key this service holds (keys/aggregator.key) is probably not that aggregator's; get the right one from the programme bureau"
        case .clientKeyNotTrusted?:
            return "the aggregator at \(endpoint) refused this service's key"
                + (zapStatus.map { " (ZAP status \($0))" } ?? "")
                + ": it does not trust it; send the public key to the programme bureau and ask them to trust it"
        }
    }
}
