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
        var resumeAfter: UInt64?
        if let text = request.headers[Self.lastEventID] ?? request.uri.queryParameters.get("after") {
            guard let n = UInt64(text.trimmingCharacters(in: .whitespaces)) else {
                throw APIError.badQuery("Last-Event-ID (or after) must be a stream sequence, a whole number ≥ 0, not `\(text)`")
            }
            resumeAfter = n
        }
        let after = resumeAfter
        // Subscribe before reading the store: everything after `startsAfter` arrives live.
        let subscription = api.feed.hub.subscribe(limit: limit)
        let start = subscription.startsAfter
        var why: String?
        if let after {
            let history = api.history
            let bounds = try await blocking { try history.open().streamBounds() }
            if after > start {
                why = "Last-Event-ID \(after) is ahead of the stream, which is at \(start) (was the store replaced?)"
            } else if let first = bounds.first, first > after + 1 {
                why = "the store holds the stream from \(first) on; \(after + 1)…\(first - 1) are gone"
            }
        }
        let reset = why
        let (clients, heartbeat, history) = (self.clients, self.heartbeat, api.history)
        let headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache",
                                   HTTPField.Name("X-Accel-Buffering")!: "no"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            clients.increment()
            defer { clients.decrement() }
            var sent = start
            try await writer.write(Self.buffer(": koers stream, at \(start)\nretry: 2000\n\n"))
            if let reset {
                struct Reset: Encodable { var reason: String; var sequence: UInt64; var snapshot: String }
                try await writer.write(Self.buffer(Self.event(id: start, name: "reset",
                    data: Self.json(Reset(reason: reset + "; take a snapshot from /api/v1/status, then follow from its sequence",
                                                       sequence: start, snapshot: "/api/v1/status")))))
            } else if let after, after < start {
                sent = try await Self.writeStored(after: after, through: start, history: history, to: &writer)
            }
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
                        try await writer.write(Self.buffer(Self.event(id: d.sequence, name: d.kind.rawValue, data: d.json)))
                        sent = d.sequence
                        quietSince = .now
                    case .document: continue
                    case .tick:
                        guard ContinuousClock.now - quietSince >= heartbeat else { continue }
                        try await writer.write(Self.buffer(": heartbeat \(sent)\n\n"))
                        quietSince = .now
                    }
                }
                } onGracefulShutdown: {
                    continuation.finish()
                }
                group.cancelAll()
            }
            try await writer.finish(nil)
        })
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

    /// One event in the text/event-stream format.
    static func event(id: UInt64, name: String, data: String) -> String {
        "id: \(id)\nevent: \(name)\n" + data.split(separator: "\n", omittingEmptySubsequences: false).map { "data: \($0)\n" }.joined() + "\n"
    }

    static func buffer(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }

    static func json(_ value: some Encodable) -> String {
        String(decoding: (try? JSONBody<String>.encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
