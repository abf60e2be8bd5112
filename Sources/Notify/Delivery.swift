import CoreMetrics
import Feed
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Synchronization

/// What every notifier target shares: its name in metrics and logs, its counters, the
/// HTTP POST, retrying with a capped backoff, and logging an outage once.
final class Delivery: Sendable {
    /// `alertmanager` or `webhook`: the `notifier` label.
    let notifier: String
    /// The URL as given: the `target` label and the position's key.
    let target: String
    let logger: Logger
    let delivered: Counter
    let failures: Counter
    let position: Gauge
    let session: URLSession
    /// The first wait after a failure, doubled after each further one up to ``maxBackoff``.
    let minBackoff: Duration
    let maxBackoff: Duration
    private let outage = Mutex<(attempts: Int, since: ContinuousClock.Instant?)>((0, nil))

    init(notifier: String, target: String, logger: Logger, metricsFactory: any MetricsFactory,
         minBackoff: Duration = .seconds(1), maxBackoff: Duration = .seconds(30)) {
        self.notifier = notifier
        self.target = target
        var logger = logger
        logger[metadataKey: "notifier"] = "\(notifier)"
        logger[metadataKey: "target"] = "\(target)"
        self.logger = logger
        let dims = [("notifier", notifier), ("target", target)]
        delivered = Counter(label: "koers_notify_delivered_total", dimensions: dims, factory: metricsFactory)
        failures = Counter(label: "koers_notify_failures_total", dimensions: dims, factory: metricsFactory)
        position = Gauge(label: "koers_notify_position", dimensions: dims, factory: metricsFactory)
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = 10
        config.timeoutIntervalForResource = 30
        session = URLSession(configuration: config)
        self.minBackoff = minBackoff
        self.maxBackoff = maxBackoff
    }

    /// One POST; throws unless the answer is 2xx.
    func post(_ url: URL, body: Data, headers: [String: String] = [:]) async throws {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("koers", forHTTPHeaderField: "User-Agent")
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        // The completion-handler API, not `session.data(for:)`: in swift-corelibs-foundation
        // cancelling the task that awaits `data(for:)` cancels the URLSession task while
        // holding the Swift task's status lock, and a completion arriving at that moment
        // waits for the same lock on the session's queue — the aggregator hung at stop
        // (seen in `make bench`). Uncancelled, a POST ends within its 10 s timeout.
        let (data, response): (Data, URLResponse) = try await withCheckedThrowingContinuation { c in
            session.dataTask(with: request) { data, response, error in
                if let error { return c.resume(throwing: error) }
                guard let response else { return c.resume(throwing: DeliveryError(message: "no HTTP response")) }
                c.resume(returning: (data ?? Data(), response))
            }.resume()
        }
        guard let http = response as? HTTPURLResponse else { throw DeliveryError(message: "no HTTP response") }
        guard (200..<300).contains(http.statusCode) else {
            throw DeliveryError(message: "HTTP \(http.statusCode): \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
    }

    /// Runs `attempt` until it succeeds, waiting between tries (1 s, 2 s, 4 s … 30 s);
    /// returns whether it ended an outage. Throws only when cancelled (the aggregator is
    /// stopping).
    @discardableResult
    func untilDelivered(_ attempt: () async throws -> Void) async throws -> Bool {
        var wait = minBackoff
        while true {
            try Task.checkCancellation()
            do {
                try await attempt()
                return recovered()
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                try Task.checkCancellation()
                failed(error)
                try await Task.sleep(for: wait)
                wait = min(wait * 2, maxBackoff)
            }
        }
    }

    /// Whether the last attempt failed (an outage is going on).
    var inOutage: Bool { outage.withLock { $0.attempts > 0 } }

    /// A failed attempt: counted each time, logged only when an outage starts.
    private func failed(_ error: any Error) {
        failures.increment()
        let first = outage.withLock { o in
            o.attempts += 1
            if o.since == nil { o.since = .now; return true }
            return false
        }
        if first {
            logger.warning("notification target unreachable; retrying with backoff (logged once until it is reachable again)",
                           metadata: ["error": "\(error)"])
        }
    }

    /// A successful attempt: ends an outage, if there was one, with one line.
    private func recovered() -> Bool {
        let ended = outage.withLock { o -> (Int, ContinuousClock.Instant)? in
            defer { o = (0, nil) }
            guard let since = o.since else { return nil }
            return (o.attempts, since)
        }
        if let (attempts, since) = ended {
            logger.info("notification target reachable again after \(attempts) failed attempt\(attempts == 1 ? "" : "s")",
                        metadata: ["outage_seconds": "\(Int((ContinuousClock.now - since) / .seconds(1)))"])
            return true
        }
        return false
    }
}

struct DeliveryError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Wake-ups for a notifier: within 100 ms of the aggregator publishing (the hub is only
/// a signal; what to deliver is read from the store), and once every `tick` regardless, so
/// that a timer's work happens too. The hub's last sequence is looked at, not its
/// documents: under a burst of reports the notifier reads the store in pages, and holds
/// no copy of the stream.
func wakeups(_ hub: StreamHub, tick: Duration) -> (AsyncStream<Void>, @Sendable () -> Void) {
    let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    let ticker = Task {
        var seen = hub.lastSequence, lastTick = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
            let now = hub.lastSequence
            if now != seen || ContinuousClock.now - lastTick >= tick {
                seen = now
                lastTick = .now
                continuation.yield()
            }
        }
    }
    continuation.yield()
    return (stream, {
        ticker.cancel()
        continuation.finish()
    })
}
