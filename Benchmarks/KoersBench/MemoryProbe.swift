import ArgumentParser
import Foundation
import Plan
import Status
import Aggregator

/// `koers-bench memory PLAN`: resident memory after each step of building the
/// aggregator's state for a plan, in one process (a diagnostic for `rss_mb_100k`).
struct MemoryProbe: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "memory", abstract: "Resident memory after each start-up step for a plan.")

    @Argument var plan: String

    func run() throws {
        func rss() -> Int {
            typealias Trim = @convention(c) (Int) -> Int32
            if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") { _ = unsafeBitCast(symbol, to: Trim.self)(0) }
            let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
            let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
            return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) / 1024
        }
        print(layoutSizes()); print("start", rss())
        let p = try PlanLoader.load(path: plan)
        print("plan", rss())
        let index = PlanIndex(p)
        print("index", rss())
        let catalog = PlanCatalog(index: index)
        print("catalog", rss())
        var engine = StatusEngine(index: index, today: PlanDate(iso: "2026-11-29")!)
        print("engine", rss())
        var alerts = AlertEngine(index: index)
        print("alert engine", rss())
        let all = engine.states.values.sorted { $0.item < $1.item }.map { StatusEngine.Change(item: $0.item, from: nil, to: $0) }
        print("changes", rss())
        let t = alerts.itemsChanged(all, engine: engine) + alerts.daily(engine: engine)
        print("alerts", rss(), t.count, alerts.active.count)
        _ = engine.advance(to: PlanDate(iso: "2026-11-30")!, nowMs: 0)
        withExtendedLifetime((p, catalog, engine, alerts, t)) {}
    }
}
func layoutSizes() -> String {
    "Milestone \(MemoryLayout<Milestone>.stride) Placed \(MemoryLayout<PlacedMilestone>.stride) ItemStatus \(MemoryLayout<ItemStatus>.stride) Evidence \(MemoryLayout<Evidence>.stride) Alert \(MemoryLayout<Alert>.stride) Item \(MemoryLayout<PlanCatalog.Item>.stride) Obs \(MemoryLayout<StatusModel.Observation>.stride)"
}
