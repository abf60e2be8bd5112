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
    /// The operators' bearer tokens (`koers keys token`), replaced on SIGHUP.
    public let tokens: HTTPTokenBook

    public init(feed: any StatusFeed, configuration: HTTPConfiguration, registry: PrometheusCollectorRegistry,
                tokens: HTTPTokenBook = HTTPTokenBook(), logger: Logger) {
        self.feed = feed
        self.tokens = tokens
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

    /// Every route of the server, here and nowhere else (`docs/openapi.yaml` describes them).
    ///
    /// Credentials (`docs/operations.md`, "HTTP API"): writes always need an operator's
    /// bearer token; reads need one when the server listens beyond loopback. `/healthz`
    /// and `/readyz` are open: probes, with nothing of the programme in them.
    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: RequestMetrics(registry: registry))
        let api = API(feed: feed, configuration: configuration, tokens: tokens)
        // The templates are constants of the binary, parsed here; a test renders every page.
        WebRoutes(site: try! WebSite(feed: feed), api: api).add(to: router)
        router.get("healthz") { _, _ in
            JSONBody(["status": "alive"])
        }
        router.get("readyz") { [feed] _, _ -> Response in
            let checks = await feed.readiness()
            let ready = checks.allSatisfy(\.ok)
            struct Ready: Encodable { var ready: Bool; var checks: [ReadinessCheck] }
            return JSONBody(Ready(ready: ready, checks: checks)).response(status: ready ? .ok : .serviceUnavailable)
        }
        router.get("metrics") { [gauges, registry] request, _ -> Response in
            _ = try api.authorize(request, write: false)
            await gauges.collect()
            var buffer = ByteBuffer()
            buffer.writeBytes(registry.emitToBuffer())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: buffer))
        }
        let events = EventStream(api: api, clients: registry.makeGauge(name: "koers_sse_clients", labels: [], help: MetricCatalog.help("koers_sse_clients")),
                                 limit: configuration.sseLimit, heartbeat: configuration.sseHeartbeat)
        router.get("api/v1/status") { request, _ in try await api.status(request) }
        router.get("api/v1/alerts") { request, _ in try await api.alerts(request) }
        router.post("api/v1/alerts/:key/ack") { request, context in try await api.acknowledge(request, context) }
        router.get("api/v1/items/:id") { request, context in try await api.item(request, context) }
        router.get("api/v1/acknowledgements") { request, _ in try await api.acknowledgements(request) }
        router.get("api/v1/stream") { request, _ in try await events.respond(request) }
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
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    func response(status: HTTPResponse.Status) -> Response {
        let data = (try? Self.encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func response(from request: Request, context: some RequestContext) throws -> Response { response(status: .ok) }
}
