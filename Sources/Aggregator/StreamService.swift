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
        let c = runtime.configuration, logger = runtime.logger, keeper = runtime.keeper, clock = runtime.clock, metrics = runtime.metrics
        let pubSocket = try runtime.serverSocket(.pub, for: .stream)
        try pubSocket.set(.sendHighWaterMark, 100_000)
        try pubSocket.set(.linger, .milliseconds(200))
        let streamEndpoint = try pubSocket.bind(c.streamEndpoint)
        let routerSocket = try runtime.serverSocket(.router, for: .snapshot)
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
                for await batch in self.runtime.publisherFeed.batches {
                    for e in batch {
                        let type: MessageType = e.kind == .statusChange ? .statusChange : .alertTransition
                        let env = Envelope(type: type, sequence: e.sequence, sentAt: clock.now())
                        let payload = codec.encodePayload(type == .statusChange ? .statusChange(document: e.json) : .alertTransition(document: e.json))
                        try await pub.send(Message([Frame(e.topic), Frame(env.bytes), Frame(payload)]))
                        metrics.published(e)
                    }
                    lastPublish.touch()
                    published.add(batch.count)
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
                        // The last sequence of the stream and of every topic, so that a
                        // subscriber to some topics can tell whether it missed one of theirs.
                        let hb = await keeper.heartbeat()
                        let env = Envelope(type: .streamHeartbeat, sequence: hb.sequence, sentAt: clock.now())
                        let payload = codec.encodePayload(.streamHeartbeat(document: StreamDocuments.encode(hb)))
                        try await pub.send(Message([Frame("hb"), Frame(env.bytes), Frame(payload)]))
                        lastPublish.touch()
                    }
                }
            }
            // Snapshots and acknowledgements, one request at a time.
            group.addTask {
                let responder = SnapshotResponder(keeper: keeper, access: self.runtime.access)
                for try await m in router.messages {
                    guard let (routing, id, reply) = await responder.reply(to: m) else { continue }
                    if case .snapshotError(let code, let detail) = reply {
                        logger.notice("snapshot channel request refused", metadata: ["reason": "\(code)", "detail": "\(detail)", "identity": "\(m.count > 1 ? m[1].userID ?? "-" : "-")"])
                    }
                    let env = Envelope(type: reply.type, sequence: id, sentAt: clock.now())
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
