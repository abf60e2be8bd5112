import Feed
import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import Telemetry
import Web

/// The aggregator's HTTP server (`docs/operations.md`, "HTTP"): `/metrics`, `/healthz`,
/// `/readyz` and the JSON API under `/api/v1/`. Everything it shows comes from the
/// ``StatusFeed`` — the numbered stream, snapshots and the stored history — never from
/// the ingest path.
public struct KoersHTTPServer: Sendable {
    public let feed: any StatusFeed
    public let configuration: HTTPConfiguration
    public let registry: PrometheusCollectorRegistry
    public let gauges: StatusGauges
    public let logger: Logger

    public init(feed: any StatusFeed, configuration: HTTPConfiguration, registry: PrometheusCollectorRegistry, logger: Logger) {
        self.feed = feed
        self.configuration = configuration
        self.registry = registry
        self.gauges = StatusGauges(feed: feed, registry: registry, perItem: configuration.itemMetrics)
        self.logger = logger
    }

    /// The services to run in the aggregator's service group: the HTTP server, and the
    /// gauges that follow the stream.
    public func services(onBound: @escaping @Sendable (String) -> Void = { _ in }) -> [any Service] {
        let logger = self.logger, host = configuration.host
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "koers"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
                logger.info("http listening", metadata: ["address": "\(address)", "url": "http://\(address)/"])
                onBound(address)
            },
            logger: logger)
        return [app, GaugeFollower(gauges: gauges)]
    }

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("healthz") { _, _ in
            JSONBody(["status": "alive"])
        }
        router.get("readyz") { [feed] _, _ -> Response in
            let checks = await feed.readiness()
            let ready = checks.allSatisfy(\.ok)
            struct Ready: Encodable { var ready: Bool; var checks: [ReadinessCheck] }
            return JSONBody(Ready(ready: ready, checks: checks)).response(status: ready ? .ok : .serviceUnavailable)
        }
        if let web = try? WebSite(feed: feed) { WebRoutes(site: web).add(to: router) }
        router.get("metrics") { [gauges, registry] _, _ -> Response in
            await gauges.collect()
            var buffer = ByteBuffer()
            buffer.writeBytes(registry.emitToBuffer())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: buffer))
        }
        return router
    }
}

/// Runs the status gauges until the aggregator stops.
struct GaugeFollower: Service {
    let gauges: StatusGauges
    func run() async throws {
        try await cancelWhenGracefulShutdown { await gauges.run() }
    }
}

/// A JSON response body: sorted keys, `application/json`.
struct JSONBody<T: Encodable & Sendable>: ResponseGenerator {
    let value: T
    init(_ value: T) { self.value = value }

    static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }

    func response(status: HTTPResponse.Status) -> Response {
        let data = (try? Self.encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func response(from request: Request, context: some RequestContext) throws -> Response { response(status: .ok) }
}
