import Foundation
import Logging
import Plan
import ServiceLifecycle
import Status
import StreamProtocol
import Wire
import ZeroMQ

/// The operators' channels: the stream (PUB: status changes and alert transitions in
/// sequence, heartbeats when quiet) and the snapshot socket (ROUTER: the current state,
/// alert acknowledgements). Also drives the passage of time.
public final class StreamService: Service, Sendable {
    let runtime: AggregatorRuntime

    public init(runtime: AggregatorRuntime) { self.runtime = runtime }

    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await self.serve() }
    }

    func serve() async throws {
        let c = runtime.configuration, logger = runtime.logger, keeper = runtime.keeper, clock = runtime.clock
        let pubSocket = try runtime.serverSocket(.pub)
        try pubSocket.set(.sendHighWaterMark, 100_000)
        try pubSocket.set(.linger, .milliseconds(200))
        let streamEndpoint = try pubSocket.bind(c.streamEndpoint)
        let routerSocket = try runtime.serverSocket(.router)
        try routerSocket.set(.routerMandatory, true)
        try routerSocket.set(.linger, .milliseconds(200))
        try routerSocket.set(.maxMessageSize, 64 << 10)
        let snapshotEndpoint = try routerSocket.bind(c.snapshotEndpoint)
        let pub = AsyncSocket(pubSocket)
        let router = AsyncSocket(routerSocket)
        logger.info("stream listening", metadata: ["stream": "\(streamEndpoint)", "snapshot": "\(snapshotEndpoint)"])
        let codec = WireCodec()
        let lastPublish = Stamp()
        let published = Counter()

        await withThrowingTaskGroup(of: Void.self) { group in
            // Publisher: the keeper's events, in order.
            group.addTask {
                for await e in keeper.stream {
                    let env = Envelope(type: e.type, sequence: e.sequence, sentAt: clock.now())
                    let payload = codec.encodePayload(e.type == .statusChange ? .statusChange(document: e.document) : .alertTransition(document: e.document))
                    try await pub.send(Message([Frame(e.topic), Frame(env.bytes), Frame(payload)]))
                    lastPublish.touch()
                    published.add(1)
                }
            }
            // Heartbeats while quiet, and the clock's ticks.
            group.addTask {
                var trimmedAt = 0
                while !Task.isCancelled {
                    try await Task.sleep(for: c.tickInterval)
                    try await keeper.tick()
                    // After a burst (a large plan's first start, a backlog caught up), give
                    // the memory its messages held back to the system.
                    if published.count - trimmedAt >= 20_000 {
                        trimmedAt = published.count
                        ProcessMemory.releaseFreed()
                    }
                    let quiet = lastPublish.age >= c.streamHeartbeat
                    if quiet {
                        let seq = await keeper.sequence
                        let env = Envelope(type: .streamHeartbeat, sequence: seq, sentAt: clock.now())
                        try await pub.send(Message([Frame("hb"), Frame(env.bytes), Frame(codec.encodePayload(.streamHeartbeat(document: nil)))]))
                        lastPublish.touch()
                    }
                }
            }
            // Snapshots and acknowledgements.
            group.addTask {
                for try await m in router.messages {
                    guard m.count == 3 else { continue }
                    let routing = m[0]
                    let reply: Payload
                    var requestID: UInt64 = 0
                    do {
                        // An operator stamps sent_at with its own clock, which may differ from a simulated one.
                        let msg = try codec.decode(envelope: m[1].bytes, payload: m[2].bytes, now: Int64.max / 2)
                        requestID = msg.envelope.sequence
                        switch msg.payload {
                        case .snapshotRequest(let theme):
                            let snap = await keeper.snapshot(theme: theme)
                            reply = .snapshotReply(document: StreamDocuments.encode(snap))
                            requestID = snap.sequence
                        case .alertAck(let doc):
                            reply = .alertAckReply(document: await Self.acknowledge(doc, identity: m[1].userID, keeper: keeper))
                        default:
                            reply = .alertAckReply(document: StreamDocuments.encode(["ok": "false", "error": "\(msg.envelope.type) is not accepted here"]))
                        }
                    } catch {
                        reply = .alertAckReply(document: StreamDocuments.encode(["ok": "false", "error": "\(error)"]))
                    }
                    let env = Envelope(type: reply.type, sequence: requestID, sentAt: clock.now())
                    try? await router.send(Message([routing, Frame(env.bytes), Frame(codec.encodePayload(reply))]))
                }
            }
            do { try await group.next() } catch {}
            group.cancelAll()
        }
        await pub.close()
        await router.close()
        logger.info("stream stopped")
    }

    static func acknowledge(_ doc: String, identity: String?, keeper: StatusKeeper) async -> String {
        guard let req = try? JSONDecoder().decode(StreamDocuments.AckRequest.self, from: Data(doc.utf8)) else {
            return #"{"error":"the document must be {\"key\", \"by\", \"reason\", \"until\"}","ok":false}"#
        }
        guard !req.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            return #"{"error":"an acknowledgement needs a reason","ok":false}"#
        }
        var until: PlanDate?
        if let u = req.until {
            guard let d = PlanDate(iso: u) else { return #"{"error":"until must be YYYY-MM-DD","ok":false}"# }
            until = d
        }
        let who = [identity, req.by].compactMap { $0 }.joined(separator: "/")
        do {
            switch try await keeper.acknowledge(key: req.key, by: who.isEmpty ? "operator" : who, reason: req.reason, until: until) {
            case .success: return #"{"ok":true}"#
            case .failure(let e): return StreamDocuments.encode(StreamDocuments.AckReply(ok: false, error: e.message))
            }
        } catch {
            return StreamDocuments.encode(StreamDocuments.AckReply(ok: false, error: "\(error)"))
        }
    }

}

import Synchronization

/// When the stream last published.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func add(_ n: Int) { value.wrappingAdd(n, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}

final class Stamp: Sendable {
    private let value = Mutex(ContinuousClock.now)
    func touch() { value.withLock { $0 = .now } }
    var age: Duration { value.withLock { ContinuousClock.now - $0 } }
}
