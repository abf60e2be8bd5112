import Plan
import Status
import StreamProtocol
import Wire

/// What the parts around the aggregator — the HTTP server, the metrics, the notifiers —
/// may see of it and do to it: its numbered stream (``hub``, and the stored stream at
/// ``storePath`` for resuming), its snapshots, and one write, acknowledging an alert
/// under the roles of `docs/protocol.md` §1.1.
///
/// Nothing here reaches into the ingest path, so that the ingest path can be redesigned
/// without touching them (`docs/architecture.md`, "The feed").
public protocol StatusFeed: Sendable {
    /// The plan the aggregator checks reports against.
    var plan: Plan { get }
    /// The live stream.
    var hub: StreamHub { get }
    /// The aggregator's SQLite file: the stored stream, reports and acknowledgements,
    /// read with `History.StoreHistory`.
    var storePath: String { get }
    /// The current state, optionally of one theme, and the sequence it holds at.
    func snapshot(theme: String?) async -> StreamDocuments.Snapshot
    /// The current state without the items: roll-ups, open alerts, silent themes (a
    /// summarised page of a very large plan).
    func snapshotWithoutItems() async -> StreamDocuments.Snapshot
    /// When each theme was last heard from (any message), in the aggregator's clock (ms).
    func lastHeard() async -> [String: Int64]
    /// The status date, the stream's sequence and the silent themes, without a snapshot
    /// (what a scrape of a very large plan needs).
    func summary() async -> StatusSummary
    /// The aggregator's clock, in ms since 1970 (a demo's clock runs faster).
    func now() -> Int64
    /// Acknowledges an open alert as `identity` (`operator:NAME`), within `scope`.
    func acknowledge(_ request: StreamDocuments.AckRequest, identity: String, scope: Set<String>?) async -> Result<Void, AckRefusal>
    /// Whether the aggregator can do its work: the store open, ZAP running, the plan loaded.
    func readiness() async -> [ReadinessCheck]
}

/// Why an acknowledgement was refused: the same reason codes as on the snapshot channel.
public struct AckRefusal: Error, Sendable, Equatable {
    public var code: ReasonCode
    public var message: String
    public init(code: ReasonCode, message: String) { self.code = code; self.message = message }
}

/// What changes without a stream message: the date and liveness.
public struct StatusSummary: Sendable, Equatable {
    public var date: PlanDate
    public var sequence: UInt64
    public var silentThemes: Set<String>
    public init(date: PlanDate, sequence: UInt64, silentThemes: Set<String>) {
        self.date = date; self.sequence = sequence; self.silentThemes = silentThemes
    }
}

/// One part of being ready.
public struct ReadinessCheck: Sendable, Codable, Equatable {
    public var name: String
    public var ok: Bool
    public var detail: String
    public init(name: String, ok: Bool, detail: String) { self.name = name; self.ok = ok; self.detail = detail }
}
