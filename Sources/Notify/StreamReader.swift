import Feed
import History
import Wire

/// Where a notifier reads the stream after its position: from the hub's latest
/// documents while it keeps up — typed values, no query, no JSON to parse — and from
/// the stored stream when it has fallen further behind than the hub holds (after an
/// outage of its target, or at start). Either way only what is stored: the hub
/// publishes after the commit.
struct StreamReader {
    let hub: StreamHub
    let history: StoreHistory

    /// Up to `limit` documents after `sequence` (only those of `kind`, when given),
    /// oldest first, and the sequence read through: a caller that moves its position
    /// there after delivering them skips nothing and reads nothing twice, also when
    /// the page held none of its kind.
    func page(after sequence: UInt64, limit: Int, kind: FeedDocument.Kind? = nil) throws -> (documents: [FeedDocument], through: UInt64) {
        // Everything up to `end` is stored: what a query sees beyond it may not have been
        // published yet, and is left for the next page.
        let end = hub.lastSequence
        if let recent = hub.recent(after: sequence) {
            var page: [FeedDocument] = []
            for d in recent where kind == nil || d.kind == kind {
                page.append(d)
                if page.count == limit { return (page, d.sequence) }
            }
            return (page, recent.last?.sequence ?? sequence)
        }
        let type = kind.map { $0 == .statusChange ? MessageType.statusChange : .alertTransition }
        let page = try history.streamMessages(after: sequence, limit: limit, type: type).filter { $0.sequence <= end }.map {
            FeedDocument(sequence: $0.sequence, kind: $0.type == .statusChange ? .statusChange : .alertTransition, topic: $0.topic, json: $0.document)
        }
        if page.count == limit, let last = page.last { return (page, last.sequence) }
        return (page, max(sequence, end))
    }
}
