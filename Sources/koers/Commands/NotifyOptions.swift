import ArgumentParser
import Telemetry
import Feed
import Foundation
import Logging
import Notify
import ServiceLifecycle

/// `koers aggregator run`'s notifier flags: Alertmanager targets and webhooks
/// (`docs/operations.md`, "Alertmanager" and "Webhooks").
struct NotifyOptions: ParsableArguments {
    @Option(name: .customLong("alertmanager"), help: ArgumentHelp("Forward fired alerts to this Alertmanager (http://HOST:9093). Repeat for an HA pair.", valueName: "URL"))
    var alertmanagers: [String] = []

    @Option(name: .customLong("webhook"), help: ArgumentHelp("POST every stream document to this URL, signed with $KOERS_WEBHOOK_SECRET. Repeatable.", valueName: "URL"))
    var webhooks: [String] = []

    @Option(name: .customLong("public-url"), help: ArgumentHelp("Where operators reach this aggregator's HTTP server, for the links in alerts. Default: http://<--http address>.", valueName: "URL"))
    var publicURL: String?

    @Option(name: .customLong("alertmanager-resend"), help: ArgumentHelp("Seconds between re-sends of every open alert to Alertmanager (endsAt is 4 × this ahead).", visibility: .hidden))
    var alertmanagerResend: Double = 60

    func validate() throws {
        for u in alertmanagers + webhooks + (publicURL.map { [$0] } ?? []) {
            guard let url = URL(string: u), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
                throw ValidationError("`\(u)` is not an http:// or https:// URL")
            }
        }
        if !webhooks.isEmpty && (ProcessInfo.processInfo.environment[WebhookNotifier.secretVariable] ?? "").isEmpty {
            throw ValidationError("--webhook needs a signing secret: set \(WebhookNotifier.secretVariable) in the aggregator's environment (see docs/operations.md, \"Webhooks\")")
        }
        guard alertmanagerResend >= 1 else { throw ValidationError("--alertmanager-resend must be at least 1 second") }
    }

    /// One service per target; none without flags.
    func services(feed: any StatusFeed, http: String, metricsFactory: CatalogMetricsFactory, logger: Logger) throws -> [any Service] {
        guard !alertmanagers.isEmpty || !webhooks.isEmpty else { return [] }
        let positions = try NotifyPositions(path: NotifyPositions.path(besideStore: feed.storePath))
        let link = publicURL ?? (http == "none" ? nil : "http://\(http)")
        var out: [any Service] = []
        for u in alertmanagers {
            out.append(AlertmanagerForwarder(feed: feed, url: URL(string: u)!, positions: positions, publicURL: link,
                                             resendInterval: .milliseconds(Int(alertmanagerResend * 1000)),
                                             metricsFactory: metricsFactory, logger: logger))
        }
        let secret = ProcessInfo.processInfo.environment[WebhookNotifier.secretVariable] ?? ""
        for u in webhooks {
            out.append(WebhookNotifier(feed: feed, url: URL(string: u)!, secret: secret, positions: positions,
                                       metricsFactory: metricsFactory, logger: logger))
        }
        return out
    }
}
