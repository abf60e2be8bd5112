import CoreMetrics
import Crypto
import Feed
import Foundation
import History
import Logging
import ServiceLifecycle

/// Posts every numbered stream document to one URL (`koers aggregator run --webhook
/// URL`): the JSON exactly as stored, one POST per document, in sequence order, with
/// `X-Koers-Sequence`, `X-Koers-Event` (`status_change`, `alert_transition`) and
/// `X-Koers-Signature: sha256=<hex HMAC-SHA256(secret, body)>`.
///
/// At least once: the target's position (`NotifyPositions`) advances only after a 2xx,
/// so a receiver may see a document again after a crash and dedupes by
/// `X-Koers-Sequence`. A new target starts at the current end of the stream.
public struct WebhookNotifier: Service {
    public static let notifier = "webhook"
    /// The environment variable that holds the signing secret.
    public static let secretVariable = "KOERS_WEBHOOK_SECRET"

    let feed: any StatusFeed
    let url: URL
    let positions: NotifyPositions
    /// The signing secret's bytes (Crypto's `SymmetricKey` is not `Sendable`).
    let secret: Data
    let delivery: Delivery

    public init(feed: any StatusFeed, url: URL, secret: String, positions: NotifyPositions, metricsFactory: any MetricsFactory, logger: Logger) {
        self.feed = feed
        self.url = url
        self.positions = positions
        self.secret = Data(secret.utf8)
        self.delivery = Delivery(notifier: Self.notifier, target: url.absoluteString, logger: logger, metricsFactory: metricsFactory)
    }

    /// `sha256=` and the hex HMAC-SHA256 of the body under the secret.
    public static func signature(body: Data, secret: String) -> String {
        signature(body: body, secret: Data(secret.utf8))
    }

    static func signature(body: Data, secret: Data) -> String {
        "sha256=" + HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret)).map { String(format: "%02x", $0) }.joined()
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            do { try await self.deliver() } catch is CancellationError { return }
        }
    }

    func deliver() async throws {
        let reader = StreamReader(hub: feed.hub, history: try StoreHistory(path: feed.storePath))
        let target = delivery.target
        let (wake, stop) = wakeups(feed.hub, tick: .seconds(1))
        defer { stop() }
        var at: UInt64
        if let stored = try positions.position(notifier: Self.notifier, target: target) {
            at = stored
        } else {
            // A new receiver starts at the current end of the stream, not at its first
            // document: the history is in the store (and `koers replay`), not a backlog.
            at = feed.hub.lastSequence
            try positions.setPosition(at, notifier: Self.notifier, target: target)
        }
        delivery.logger.info("posting stream documents to a webhook", metadata: ["position": "\(at)"])
        delivery.position.record(Int64(at))
        var savedAt = ContinuousClock.now
        for await _ in wake {
            while true {
                let (page, _) = try reader.page(after: at, limit: 500)
                guard !page.isEmpty else { break }
                for m in page {
                    let body = Data(m.json.utf8)
                    let headers = [
                        "X-Koers-Sequence": String(m.sequence),
                        "X-Koers-Event": m.kind.rawValue,
                        "X-Koers-Signature": Self.signature(body: body, secret: secret),
                    ]
                    try await delivery.untilDelivered { try await self.delivery.post(self.url, body: body, headers: headers) }
                    delivery.delivered.increment()
                    at = m.sequence
                    delivery.position.record(Int64(at))
                    // The position is written at most every second (and at each page's
                    // end): at least once allows a repeat after a crash, and receivers
                    // dedupe by X-Koers-Sequence; a write per document would be an fsync each.
                    if ContinuousClock.now - savedAt >= .seconds(1) {
                        try positions.setPosition(at, notifier: Self.notifier, target: target)
                        savedAt = .now
                    }
                }
                try positions.setPosition(at, notifier: Self.notifier, target: target)
                savedAt = .now
            }
        }
    }
}
