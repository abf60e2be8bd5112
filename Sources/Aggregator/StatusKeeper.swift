import Feed
import Plan
import StreamProtocol

/// The status as the rest of the aggregator reaches it: each call is a request to the
/// ingest thread, which owns the status (``StatusCore``) and runs requests between
/// batches (``Mailbox``). Reads see the state as of a batch boundary; the one write,
/// acknowledging, is decided and stored there too, so it cannot race a batch.
public final class StatusKeeper: Sendable {
    let mailbox: Mailbox
    /// The plan's theme ids (fixed for the aggregator's life).
    public let themeIDs: [String]

    init(mailbox: Mailbox, themeIDs: [String]) {
        self.mailbox = mailbox
        self.themeIDs = themeIDs
    }

    /// The current state, optionally of one theme, and the sequence it holds at.
    public func snapshot(theme: String?) async -> StreamDocuments.Snapshot { await mailbox.ask { $0.core.snapshot(theme: theme) } }

    /// The current state without the items' statuses (roll-ups, alerts, liveness).
    public func summarySnapshot() async -> StreamDocuments.Snapshot { await mailbox.ask { $0.core.summarySnapshot() } }

    /// The date, the sequence and the silent themes.
    public func summary() async -> StatusSummary { await mailbox.ask { $0.core.summary() } }

    /// When each theme was last heard from, in the aggregator's clock (ms).
    public func lastHeard() async -> [String: Int64] { await mailbox.ask { $0.core.engine.lastHeard } }

    /// The aggregator's programme date.
    public func today() async -> PlanDate { await mailbox.ask { $0.core.today } }

    /// Acknowledges an open alert as `identity` within `scope` (``Acknowledger``).
    func acknowledge(_ request: StreamDocuments.AckRequest, identity: String, scope: Set<String>?) async -> Result<Void, AckRefusal> {
        await mailbox.ask { Acknowledger.acknowledge(request, identity: identity, scope: scope, in: $0) }
    }
}
