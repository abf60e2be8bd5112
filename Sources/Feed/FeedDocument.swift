import StreamProtocol

/// One numbered document of the aggregator's stream, as the parts around the
/// aggregator receive it: the JSON exactly as the ZeroMQ stream carries it, and,
/// when it comes live from the aggregator, the same document as a value (so a metric
/// or a notifier need not parse what was just written).
public struct FeedDocument: Sendable {
    /// What kind of document: the stream's two message types.
    public enum Kind: String, Sendable, Codable {
        case statusChange = "status_change"
        case alertTransition = "alert_transition"
    }

    /// The document as a value. Indirect: a document is copied several times on its way
    /// (the batch's records, the hub's window, each subscriber), and a boxed value is one
    /// reference to count instead of the twenty-odd of an alert with its evidence (copying
    /// them was 6 % of the ingest thread in a profile of one-report batches).
    public indirect enum Content: Sendable {
        case statusChange(StreamDocuments.StatusChange)
        case alertTransition(StreamDocuments.AlertTransitionDocument)
    }

    public var sequence: UInt64
    public var kind: Kind
    /// The topic it is published on (`status.<theme>`, `alert.<theme>.<severity>`).
    public var topic: String
    /// The document's JSON (`docs/status-model.md`, "Stream documents").
    public var json: String
    /// The document as a value; nil when it was read back from the store, where only
    /// the JSON is kept (``decoded()`` parses it).
    public var content: Content?
    /// When the aggregator received the report that caused it (nil for the passage of
    /// time and acknowledgements): the start of the report-to-stream latency.
    public var receivedAt: ContinuousClock.Instant?

    public init(sequence: UInt64, kind: Kind, topic: String, json: String, content: Content? = nil, receivedAt: ContinuousClock.Instant? = nil) {
        self.sequence = sequence
        self.kind = kind
        self.topic = topic
        self.json = json
        self.content = content
        self.receivedAt = receivedAt
    }

    /// The document as a value, parsed from its JSON when it was not given.
    public func decoded() throws -> Content {
        if let content { return content }
        switch kind {
        case .statusChange: return .statusChange(try StreamDocuments.decode(StreamDocuments.StatusChange.self, from: json))
        case .alertTransition: return .alertTransition(try StreamDocuments.decode(StreamDocuments.AlertTransitionDocument.self, from: json))
        }
    }
}
