import Foundation
import ServiceLifecycle
import Wire
import ZeroMQ

/// The snapshot channel (ROUTER): the current state on request, and alert
/// acknowledgements, one request at a time. It asks the ingest thread for both through
/// ``StatusKeeper``, and never touches the status itself.
public final class SnapshotService: Service, Sendable {
    let runtime: AggregatorRuntime

    public init(runtime: AggregatorRuntime) { self.runtime = runtime }

    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await self.serve() }
    }

    func serve() async throws {
        let c = runtime.configuration, logger = runtime.logger, clock = runtime.clock
        let socket = try runtime.serverSocket(.router, for: .snapshot)
        try socket.set(.routerMandatory, true)
        try socket.set(.linger, .milliseconds(200))
        try socket.set(.maxMessageSize, 64 << 10)
        let endpoint = try socket.bind(c.snapshotEndpoint)
        let router = AsyncSocket(socket)
        logger.info("snapshot channel listening", metadata: ["snapshot": "\(endpoint)"])
        let codec = WireCodec()
        let responder = SnapshotResponder(keeper: runtime.keeper, access: runtime.access)
        do {
            for try await m in router.messages {
                guard let (routing, id, reply) = await responder.reply(to: m) else { continue }
                if case .snapshotError(let code, let detail) = reply {
                    logger.notice("snapshot channel request refused", metadata: ["reason": "\(code)", "detail": "\(detail)", "identity": "\(m.count > 1 ? m[1].userID ?? "-" : "-")"])
                }
                let env = Envelope(type: reply.type, sequence: id, sentAt: clock.now())
                try? await router.send(Message([routing, Frame(env.bytes), Frame(codec.encodePayload(reply))]))
            }
        } catch is CancellationError {}
        await router.close()
        logger.info("snapshot channel stopped")
    }
}
