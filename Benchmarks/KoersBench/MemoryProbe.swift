import ArgumentParser
import Foundation
import Plan
import Status
import Aggregator
import StreamProtocol

/// `koers-bench memory PLAN`: resident memory after each step of building the
/// aggregator's state for a plan, in one process (a diagnostic for `rss_mb_100k`).
struct MemoryProbe: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "memory", abstract: "Resident memory after each start-up step for a plan.")

    @Argument var plan: String

    func run() throws {
        func rss() -> Int {
            ProcessMemory.releaseFreed()
            return ProcessMemory.residentMegabytes()
        }
        print("value sizes in bytes: \(layoutSizes())")
        print("resident MB after each step (freed memory returned first)")
        print("  start", rss())
        let p = try PlanLoader.load(path: plan)
        print("  plan", rss())
        let index = PlanIndex(p)
        print("  index", rss())
        let catalog = PlanCatalog(index: index)
        print("  catalog", rss())
        var engine = StatusEngine(index: index, today: PlanDate(iso: "2026-11-29")!)
        print("  engine", rss())
        var alerts = AlertEngine(index: index)
        print("  alert engine", rss())
        let all = engine.states.values.sorted { $0.item < $1.item }.map { StatusEngine.Change(item: $0.item, from: nil, to: $0) }
        print("  changes", rss())
        let t = alerts.itemsChanged(all, engine: engine) + alerts.daily(engine: engine)
        print("  alerts", rss(), "(\(t.count) transitions, \(alerts.openCount) open)")
        _ = engine.advance(to: PlanDate(iso: "2026-11-30")!, nowMs: 0)
        withExtendedLifetime((p, catalog, engine, alerts, t)) {}
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
