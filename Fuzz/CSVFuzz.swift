// libFuzzer target: the CSV import of a theme service, the text of a file to checked
// reports (CSVTable, the theme's collectors, ReportChecker: Importer.payloads), for
// every theme plugin (ThemeRegistry: Package.swift's `themePlugins`).
//
// Input: byte 0 picks the plugin (modulo their count, in the order of `themePlugins`:
// talent, work, health, safety), the rest is the file's text. Seeds: Fuzz/seeds/csv, the plugins' data files and the generic
// example of docs/theme-teams.md (Fuzz/seeds.py).
//
// Besides crashes, sanitizer findings and hangs, it checks that a refused file always
// says why (at least one problem).
import Plan
import ThemeRegistry
import ThemeService

/// 2025-06-01T00:00:00Z: after every date in the seeds, so they import.
let now: Int64 = 1_748_736_000_000
let importers: [Importer] = {
    let plan: Plan
    do { plan = try PlanLoader.loadDefault(path: nil) } catch { fatalError("the built-in plan does not load: \(error)") }
    return ThemeRegistry.entries.map { Importer(checker: ReportChecker(plan: plan, plugin: $0.plugin)) }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let importer = importers[Int(data[0]) % importers.count]
    let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    do {
        _ = try importer.payloads(csv: text, file: "fuzz.csv", reporter: "fuzz", now: now)
    } catch {
        precondition(!error.problems.isEmpty, "a refused file must say why")
        _ = error.description
    }
    return 0
}
