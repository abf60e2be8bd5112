// libFuzzer target: the plan loader, YAML text to a validated plan (PlanLoader.load).
//
// Input: the plan text (invalid UTF-8 is replaced, as reading a file would not; the
// loader takes a String). Seeds: Fuzz/seeds/plan, plans/nphln.yaml and the YAML of
// docs/plan-format.md (Fuzz/seeds.py).
//
// Besides crashes, sanitizer findings and hangs, it checks that a refused plan always
// says why (at least one diagnostic), and that a loaded plan can be used as the status
// model uses it: it indexes (PlanCatalog), and each cadence gives its length in days and
// the date one cadence after each milestone's start.
import Plan

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPlan(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let plan = try PlanLoader.load(yaml: text, file: "fuzz.yaml")
        _ = PlanCatalog(plan)
        for t in plan.themes { _ = t.heartbeat.approximateDays }
        for p in plan.milestones { _ = (p.milestone.cadence.approximateDays, p.milestone.cadence.after(p.milestone.start)) }
        for p in plan.indicators { _ = p.indicator.cadence.approximateDays }
    } catch {
        precondition(!error.diagnostics.isEmpty, "a refused plan must say why")
        _ = error.description
    }
    return 0
}
