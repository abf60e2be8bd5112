import Feed
import Plan
import StreamProtocol

/// The aggregator as the parts around it see it (``StatusFeed``): the status keeper's
/// stream and snapshots, acknowledging, and whether it is ready.
public final class AggregatorFeed: StatusFeed {
    let runtime: AggregatorRuntime

    public init(runtime: AggregatorRuntime) { self.runtime = runtime }

    public var plan: Plan { runtime.configuration.plan }
    public var hub: StreamHub { runtime.hub }
    public var storePath: String { runtime.configuration.storePath }
    public func snapshot(theme: String?) async -> StreamDocuments.Snapshot { await runtime.keeper.snapshot(theme: theme) }
    public func lastHeard() async -> [String: Int64] { await runtime.keeper.lastHeard() }
    public func summary() async -> StatusSummary { await runtime.keeper.summary() }
    public func snapshotWithoutItems() async -> StreamDocuments.Snapshot { await runtime.keeper.summarySnapshot() }
    public func now() -> Int64 { runtime.clock.now() }

    public func acknowledge(_ request: StreamDocuments.AckRequest, identity: String, scope: Set<String>?) async -> Result<Void, AckRefusal> {
        await runtime.keeper.acknowledge(request, identity: identity, scope: scope)
    }

    public func readiness() async -> [ReadinessCheck] {
        var checks: [ReadinessCheck] = []
        do {
            let last = try runtime.store.lastStreamSequence()
            if let f = runtime.storeHealth.failure {
                checks.append(.init(name: "store", ok: false, detail: "\(runtime.configuration.storePath) does not take writes since \(f.since) ms (\(f.refusedBatches) batches refused with 503, nothing acknowledged): \(f.error)"))
            } else {
                checks.append(.init(name: "store", ok: true, detail: "\(runtime.configuration.storePath) open; stream at \(last)"))
            }
        } catch {
            checks.append(.init(name: "store", ok: false, detail: "\(runtime.configuration.storePath) does not answer: \(error)"))
        }
        if let zap = runtime.authenticator {
            checks.append(.init(name: "zap", ok: zap.isRunning, detail: zap.isRunning ? "ZAP authenticator running" : "ZAP authenticator stopped"))
        } else {
            checks.append(.init(name: "zap", ok: true, detail: "plain mode: no authentication (tests only)"))
        }
        let p = plan
        checks.append(.init(name: "plan", ok: !p.themes.isEmpty, detail: "plan of \(p.programme.name) version \(p.version): \(runtime.index.count) items"))
        return checks
    }
}
