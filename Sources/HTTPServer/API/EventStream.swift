import Feed
import Foundation
import History
import HTTPTypes
import Hummingbird
import ServiceLifecycle
import NIOCore
import Prometheus
import StreamProtocol
import Telemetry
import Wire

/// `GET /api/v1/stream`: the aggregator's numbered stream as Server-Sent Events. Each
/// document is `id: SEQUENCE`, `event: status_change|alert_transition`, `data: JSON` —
/// the same JSON the ZeroMQ stream carries. A client that sends `Last-Event-ID` (or
/// `?after=N`) gets every document after it from the stored stream, then the live ones,
/// with no gap and no duplicate: it subscribes first, reads the store up to where the
/// subscription starts, then goes on live skipping what it already sent. A position the
/// store cannot serve (older than its first document, or ahead of the stream) gets an
/// `event: reset` telling it to take a snapshot from `/api/v1/status`, then the stream
/// from now. Comments (`: heartbeat`) keep a quiet connection open; a client that falls
/// more than the limit behind is ended, and resumes with `Last-Event-ID`.
struct EventStream: Sendable {
    let api: API
    let clients: Gauge
    /// Documents held for one client before it is ended.
    var limit: Int
    /// How long the stream may be quiet before a heartbeat comment.
    var heartbeat: Duration

    static let lastEventID = HTTPField.Name("Last-Event-ID")!

    func respond(_ request: Request) async throws -> Response {
        _ = try api.authorize(request, write: false)
        let after = try Self.resumePoint(request)
        // Subscribe before reading the store: everything after `startsAfter` arrives live.
        let subscription = api.feed.hub.subscribe(limit: limit)
        let start = subscription.startsAfter
        let reset = try await resetReason(after: after, start: start)
        let (clients, heartbeat, history, limit) = (self.clients, self.heartbeat, api.history, self.limit)
        let headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache",
                                   HTTPField.Name("X-Accel-Buffering")!: "no"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            clients.increment()
            defer { clients.decrement() }
            try await writer.write(Self.buffer(": koers stream, at \(start)\nretry: 2000\n\n"))
            let sent = try await Self.writeCatchUp(after: after, start: start, reset: reset, history: history, to: &writer)
            try await Self.writeLive(subscription, after: sent, limit: limit, heartbeat: heartbeat, to: &writer)
            try await writer.finish(nil)
        })
    }

    // MARK: - Resuming

    /// The sequence a client resumes after: `Last-Event-ID`, else `?after=N`, else none.
    static func resumePoint(_ request: Request) throws -> UInt64? {
        guard let text = request.headers[lastEventID] ?? request.uri.queryParameters.get("after") else { return nil }
        guard let n = UInt64(text.trimmingCharacters(in: .whitespaces)) else {
            throw APIError.badQuery("Last-Event-ID (or after) must be a stream sequence, a whole number ≥ 0, not `\(text)`")
        }
        return n
    }

    /// Why the store cannot serve the documents after `after`, when it cannot; nil when it
    /// can or the client is not resuming. `start` is where the live subscription begins.
    func resetReason(after: UInt64?, start: UInt64) async throws -> String? {
        guard let after else { return nil }
        let history = api.history
        let bounds = try await blocking { try history.open().streamBounds() }
        if after > start {
            return "Last-Event-ID \(after) is ahead of the stream, which is at \(start) (was the store replaced?)"
        } else if let first = bounds.first, first > after + 1 {
            return "the store holds the stream from \(first) on; \(after + 1)…\(first - 1) are gone"
        }
        return nil
    }

    /// What comes before the live documents: an `event: reset` when the store cannot serve
    /// the resume point, else the stored documents after it up to `start`. Returns the last
    /// sequence the client has (`start` unless the store ran short).
    static func writeCatchUp(after: UInt64?, start: UInt64, reset: String?, history: HistoryHandle,
                             to writer: inout any ResponseBodyWriter) async throws -> UInt64 {
        if let reset {
            struct Reset: Encodable { var reason: String; var sequence: UInt64; var snapshot: String }
            try await writer.write(buffer(event(id: start, name: "reset",
                data: json(Reset(reason: reset + "; take a snapshot from /api/v1/status, then follow from its sequence",
                                 sequence: start, snapshot: "/api/v1/status")))))
        } else if let after, after < start {
            return try await writeStored(after: after, through: start, history: history, to: &writer)
        }
        return start
    }

    /// The stored part of a resumed stream, in pages, up to where the subscription
    /// starts: the last sequence written.
    static func writeStored(after: UInt64, through start: UInt64, history: HistoryHandle, to writer: inout any ResponseBodyWriter) async throws -> UInt64 {
        var sent = after
        while sent < start {
            let from = sent
            let page = try await blocking { try history.open().streamMessages(after: from, limit: 500) }.filter { $0.sequence <= start }
            guard !page.isEmpty else { break }
            var out = ByteBuffer()
            for m in page { out.writeString(event(id: m.sequence, name: m.type == .statusChange ? "status_change" : "alert_transition", data: m.document)) }
            try await writer.write(out)
            sent = page.last!.sequence
        }
        return sent
    }

    // MARK: - Live

    /// The live documents after `sent`, with a heartbeat comment whenever the stream has
    /// been quiet for `heartbeat`. Returns when the subscription ends (the client fell
    /// more than `limit` behind) or the aggregator stops.
    static func writeLive(_ subscription: StreamHub.Subscription, after sent: UInt64, limit: Int, heartbeat: Duration,
                          to writer: inout any ResponseBodyWriter) async throws {
        var sent = sent
        // Live documents and heartbeat ticks, merged; the limit applies to the merge.
        enum Item: Sendable { case document(FeedDocument), tick }
        let (items, continuation) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .bufferingOldest(limit + 16))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await d in subscription.documents {
                    if case .dropped = continuation.yield(.document(d)) { break }
                }
                continuation.finish()
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    continuation.yield(.tick)
                }
            }
            var quietSince = ContinuousClock.now
            // The aggregator stopping ends the stream (clients see the connection
            // close and reconnect with Last-Event-ID), rather than holding the stop.
            try await withGracefulShutdownHandler {
                for await item in items {
                    switch item {
                    case .document(let d) where d.sequence > sent:
                        try await writer.write(buffer(event(id: d.sequence, name: d.kind.rawValue, data: d.json)))
                        sent = d.sequence
                        quietSince = .now
                    case .document: continue
                    case .tick:
                        guard ContinuousClock.now - quietSince >= heartbeat else { continue }
                        try await writer.write(buffer(": heartbeat \(sent)\n\n"))
                        quietSince = .now
                    }
                }
            } onGracefulShutdown: {
                continuation.finish()
            }
            group.cancelAll()
        }
    }

    // MARK: - Text

    /// One event in the text/event-stream format.
    static func event(id: UInt64, name: String, data: String) -> String {
        "id: \(id)\nevent: \(name)\n" + data.split(separator: "\n", omittingEmptySubsequences: false).map { "data: \($0)\n" }.joined() + "\n"
    }

    static func buffer(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }

    static func json(_ value: some Encodable) -> String {
        String(decoding: (try? JSONBody<String>.encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
