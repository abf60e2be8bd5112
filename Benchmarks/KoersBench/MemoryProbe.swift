import ArgumentParser
import Foundation
import Plan
import Status
import Aggregator
import StreamProtocol
import Wire

/// `koers-bench memory PLAN`: resident memory after each step of building the
/// aggregator's state for a plan, in one process (a diagnostic for `rss_mb_100k`).
struct MemoryProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory", abstract: "Resident memory and seconds after each start-up step for a plan.",
        discussion: """
            With --store, the steps are those of a restart on that aggregator store (read, not written): \
            the items' observations, the engine built from them, the open alerts decoded and restored, and \
            every item run through the alert rules once, as the aggregator does at start.
            """)

    @Argument var plan: String
    @Option(help: "An aggregator store (DATA/aggregator/koers.sqlite) to rebuild the state from, as a restart does.")
    var store: String?
    @Option(help: "A compiled plan cache directory: the plan is read through it (written on a miss).")
    var cache: String?

    func run() throws {
        ProcessMemory.tuneAllocator()  // as the aggregator does, before it allocates much
        var last = ContinuousClock.now
        func step(_ name: String, _ extra: String = "") {
            ProcessMemory.releaseFreed()
            let now = ContinuousClock.now
            print("  \(name)".padding(toLength: 16, withPad: " ", startingAt: 0), ProcessMemory.residentMegabytes(), "MB",
                  fmt((now - last).seconds, 3), "s", extra)
            last = ContinuousClock.now
        }
        print("value sizes in bytes: \(layoutSizes())")
        print("resident MB and seconds after each step (freed memory returned first)")
        step("start")
        let p: Plan
        if let cache {
            let loaded = try PlanCache(directory: cache).load(path: plan)
            p = loaded.plan
            step("plan", "\(loaded.outcome)")
        } else {
            p = try PlanLoader.load(path: plan)
            step("plan")
        }
        let index = PlanIndex(p)
        step("index")
        let catalog = PlanCatalog(index: index)
        step("catalog")
        let db = try store.map { try ReportStore(path: $0) }
        if db != nil { step("store open") }
        let observations = try db?.itemObservations() ?? [:]
        if db != nil { step("observations", "\(observations.count) items") }
        let today = store == nil ? PlanDate(iso: "2026-11-29")! : PlanDate(epochMilliseconds: SystemClock().now())
        var engine = StatusEngine(index: index, today: today, observations: observations)
        step("engine")
        var alerts = AlertEngine(index: index)
        step("alert engine")
        if let db {
            let open = try db.openAlerts()
            step("open alerts", "\(open.count) decoded")
            alerts.restore(open)
            step("alert restore")
        }
        let all = engine.allStatuses.sorted { $0.item < $1.item }.map { StatusEngine.Change(item: $0.item, from: nil, to: $0) }
        step("changes")
        let t = alerts.itemsChanged(all, engine: engine) + alerts.daily(engine: engine)
        step("alerts", "(\(t.count) transitions, \(alerts.openCount) open)")
        _ = engine.advance(to: engine.today.adding(days: 1), nowMs: 0)
        withExtendedLifetime((p, catalog, engine, alerts, t, db)) {}
    }
}
func layoutSizes() -> String {
    "Milestone \(MemoryLayout<Milestone>.stride) Placed \(MemoryLayout<PlacedMilestone>.stride) ItemStatus \(MemoryLayout<ItemStatus>.stride) Evidence \(MemoryLayout<Evidence>.stride) Alert \(MemoryLayout<Alert>.stride) Item \(MemoryLayout<PlanCatalog.Item>.stride) Obs \(MemoryLayout<StatusModel.Observation>.stride)"
}

/// `koers-bench apply PLAN N`: the keeper's per-report work without I/O (engine, alerts,
/// stream documents), in one process, for profiling.
struct ApplyProbe: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apply", abstract: "Time the status and alert work per report, without I/O.")

    @Argument var plan: String
    @Argument var count: Int

    func run() throws {
        let r = EngineBench.run(plan: try PlanLoader.load(path: plan), count: count, documents: true)
        print("\(count) reports in \(fmt(r.seconds, 2)) s: \(fmt(Double(count) / r.seconds, 0))/s, \(fmt(r.microsecondsPerReport, 1)) µs each; \(r.events) events, \(r.bytes / max(r.events, 1)) B each")
    }
}
