import Foundation
import Plan
import Testing
import Wire
@testable import ThemeService
import TalentPlugin
import WorkPlugin
import HealthPlugin
import SafetyPlugin
import ThemeRegistry

let plan = try! PlanLoader.loadDefault(path: nil)
let clockNow: Int64 = 1_764_000_000_000  // 2025-11-24
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Distinct reports for the outbox (the note carries the number).
func safetyReports(_ range: ClosedRange<Int>) -> [Payload] {
    range.map { i in
        .milestoneProgress(MilestoneProgress(theme: "safety", item: "sociaal-veilig-uitrol", value: 4, asOf: PlanDate(iso: "2023-01-01")!,
                                             reportedAt: clockNow, note: "report \(i)"))
    }
}

func tempOutbox() throws -> Outbox {
    try Outbox(path: NSTemporaryDirectory() + "koers-outbox-\(UUID().uuidString)/outbox.sqlite")
}

@Suite("The outbox")
struct OutboxTests {
    @Test("every commit syncs: the writer runs synchronous = FULL (GRDB's WAL set-up would leave it NORMAL)")
    func synchronousFull() throws {
        #expect(try tempOutbox().writerSynchronous() == 2)
    }

    @Test("sequences only grow, across reopening, and acknowledgement is cumulative")
    func sequences() throws {
        let path = NSTemporaryDirectory() + "koers-outbox-\(UUID().uuidString)/outbox.sqlite"
        let first = try Outbox(path: path)
        #expect(try first.enqueue(safetyReports(1...3), now: clockNow) == [1, 2, 3])
        try first.markAcked(through: 2, now: clockNow)
        let again = try Outbox(path: path)
        #expect(try again.enqueue(safetyReports(4...4), now: clockNow) == [4])
        let s = try again.summary()
        #expect(s.acked == 2 && s.pending == 2 && s.lastSequence == 4 && s.settledThrough == 2)
        try again.markRefused(3, reason: .unknownItem, detail: "nope", now: clockNow)
        #expect(try again.summary().refused.map(\.sequence) == [3])
        // Resend order: everything from a sequence on, whatever its state.
        #expect(try again.entries(from: 2, limit: 10).map(\.sequence) == [2, 3, 4])
        // The first report whose fate is unknown here; an ACK for a resend never lowers the level.
        #expect(try again.firstPending() == 4)
        try again.markAcked(through: 1, now: clockNow)
        #expect(try again.summary().settledThrough == 2)
        try again.recordDiagnosis("nothing_listening", sentence: "nothing is listening", now: clockNow)
        #expect(try again.summary().diagnosis == Outbox.Diagnosis(verdict: "nothing_listening", sentence: "nothing is listening", at: clockNow))
    }
}

@Suite("CSV")
struct CSVTests {
    @Test("quotes, commas, line breaks, a BOM and CRLF")
    func parsing() throws {
        let t = try CSVTable(text: "\u{FEFF}Kind,Item,Note\r\nmilestone,a,\"x, y\"\r\nmilestone,b,\"two\nlines \"\"quoted\"\"\"\r\n")
        #expect(t.header == ["kind", "item", "note"])
        #expect(t.rows.count == 2)
        #expect(t.rows[0].fields[2] == "x, y")
        #expect(t.rows[1].fields[2] == "two\nlines \"quoted\"")
        #expect(t.rows[1].line == 3)
    }

    @Test("a short row and an open quote name their line")
    func errors() throws {
        // A short row is kept as a problem, so an import lists it with every other bad row.
        #expect(try CSVTable(text: "a,b\n1,2\n3\n").problems.compactMap(\.row) == [3])
        #expect { try CSVTable(text: "a,b\n1,\"open\n") } throws: { ($0 as? ReportError)?.message.contains("never closed") == true }
    }
}

@Suite("Report checks before queueing")
struct CheckerTests {
    let safety = ReportChecker(plan: plan, plugin: SafetyPlugin())

    @Test("refusals say why", arguments: [
        (ReportDraft.milestone(item: "vc-intentieovereenkomts", value: 1, asOf: PlanDate(iso: "2022-11-28")!, note: nil, unit: nil), "did you mean `vc-intentieovereenkomst`"),
        (.milestone(item: "vc-intentieovereenkomst", value: 2, asOf: PlanDate(iso: "2022-11-28")!, note: nil, unit: nil), "binary"),
        (.milestone(item: "sociaal-veilig-uitrol", value: 40, asOf: PlanDate(iso: "2023-01-01")!, note: nil, unit: nil), "outside"),
        (.milestone(item: "sociaal-veilig-uitrol", value: 5, asOf: PlanDate(iso: "2023-01-01")!, note: nil, unit: "buurten"), "counted in wijken, not buurten"),
        (.milestone(item: "sociaal-veilig-uitrol", value: 5, asOf: PlanDate(iso: "2019-01-01")!, note: nil, unit: nil), "outside the plan's window"),
        (.milestone(item: "sociaal-veilig-uitrol", value: 5, asOf: PlanDate(iso: "2027-01-01")!, note: nil, unit: nil), "in the future"),
        (.milestone(item: "sociaal-veilig-uitrol", value: .nan, asOf: PlanDate(iso: "2023-01-01")!, note: nil, unit: nil), "finite"),
        (.milestone(item: "bvs-werksferen", value: 3, asOf: PlanDate(iso: "2023-01-01")!, note: nil, unit: nil), "belongs to theme `work`"),
        (.milestone(item: "sociaal-veilig-uitrol", value: 3, asOf: PlanDate(iso: "2023-01-01")!, note: nil, unit: nil), "already runs in 4 wijken"),
        (.indicator(item: "persoonlijk-welzijn", value: 6.9, periodStart: PlanDate(iso: "2024-01-01")!, periodEnd: PlanDate(iso: "2023-12-31")!, note: nil, unit: nil), "before period_start"),
    ] as [(ReportDraft, String)])
    func refused(draft: ReportDraft, reason: String) {
        #expect {
            try safety.check(draft, reporter: nil, now: clockNow)
        } throws: { ($0 as? ReportError)?.message.contains(reason) == true }
    }

    @Test("a good report becomes its payload")
    func accepted() throws {
        let p = try safety.check(.milestone(item: "sociaal-veilig-uitrol", value: 5, asOf: PlanDate(iso: "2023-01-01")!, note: "Schandelen", unit: "wijken"),
                                 reporter: "a.jansen", now: clockNow)
        #expect(p == .milestoneProgress(MilestoneProgress(theme: "safety", item: "sociaal-veilig-uitrol", value: 5,
                                                          asOf: PlanDate(iso: "2023-01-01")!, reportedAt: clockNow, note: "Schandelen", reporter: "a.jansen")))
    }
}

@Suite("Imports and the plugins' sample data")
struct ImportTests {
    @Test("each plugin's sample data imports", arguments: [
        ("talent", "Plugins/Talent/data/scholen.csv", 2),
        ("work", "Plugins/Work/data/werksferen.csv", 4),
        ("health", "Plugins/Health/data/woningen.csv", 3),
        ("health", "Plugins/Health/data/groen.csv", 3),
        ("health", "Plugins/Health/data/metingen.csv", 2),
        ("safety", "Plugins/Safety/data/wijken.csv", 1),
        ("safety", "Plugins/Safety/data/mijlpalen.csv", 3),
    ])
    func samples(theme: String, file: String, reports: Int) throws {
        let importer = Importer(checker: ReportChecker(plan: plan, plugin: ThemeRegistry.plugin(for: theme)))
        let outbox = try tempOutbox()
        let seqs = try importer.importFile(repoRoot.appendingPathComponent(file).path, into: outbox, reporter: "test", now: clockNow)
        #expect(seqs.count == reports)
    }

    @Test("derived figures: the school roster counts per cohort")
    func roster() throws {
        let table = try CSVTable(text: try String(contentsOf: repoRoot.appendingPathComponent("Plugins/Talent/data/scholen.csv"), encoding: .utf8))
        let drafts = try SchoolRosterCollector().collect(table, plan: plan, theme: "talent")
        #expect(drafts == [
            .milestone(item: "rsd-eerste-scholen", value: 2, asOf: PlanDate(iso: "2021-08-30")!, note: "uit het scholenregister", unit: nil),
            .milestone(item: "rsd-drie-scholen-erbij", value: 1, asOf: PlanDate(iso: "2022-08-29")!, note: "uit het scholenregister", unit: nil),
        ])
    }

    @Test("an import is all-or-nothing and names every bad row")
    func allOrNothing() throws {
        let file = NSTemporaryDirectory() + "koers-import-\(UUID().uuidString).csv"
        try """
            kind,item,value,as_of,period_start,period_end,note
            milestone,vc-haalbaarheid,1,2022-09-15,,,ok
            milestone,vc-haalbaarheid,7,2022-09-15,,,bad value
            milestone,vc-haalbarheid,1,2022-09-15,,,typo
            milestone,vc-intentieovereenkomst,1,2022-31-12,,,bad date
            milestone,vc-intentieovereenkomst,1,2022-12-12,,,ok
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let outbox = try tempOutbox()
        let importer = Importer(checker: ReportChecker(plan: plan, plugin: SafetyPlugin()))
        do {
            _ = try importer.importFile(file, into: outbox, reporter: nil, now: clockNow)
            Issue.record("a bad file was imported")
        } catch let e as ImportError {
            #expect(e.problems.compactMap(\.row) == [3, 4, 5])
            #expect(e.description.contains(":4: `vc-haalbarheid` is not in the plan; did you mean `vc-haalbaarheid`"))
        }
        #expect(try outbox.lastSequence() == 0)
    }

    @Test("a header that fits no format lists the formats")
    func unknownFormat() throws {
        let file = NSTemporaryDirectory() + "koers-import-\(UUID().uuidString).csv"
        try "naam,datum\nx,2022-01-01\n".write(toFile: file, atomically: true, encoding: .utf8)
        let importer = Importer(checker: ReportChecker(plan: plan, plugin: WorkPlugin()))
        #expect {
            try importer.importFile(file, into: try tempOutbox(), reporter: nil, now: clockNow)
        } throws: { ($0 as? ImportError)?.description.contains("werksferen: datum,werksfeer,werkgevers,geplaatst") == true }
    }
}

@Suite("The theme registry: the plugins Package.swift lists, generated at build time")
struct ThemeRegistryTests {
    @Test("every folder under Plugins/ is a registered plugin, and every registered plugin has its folder")
    func everyFolder() throws {
        let root = repoRoot.appendingPathComponent("Plugins")
        let folders = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { name in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: root.appendingPathComponent(name).path, isDirectory: &isFolder) && isFolder.boolValue
        }
        #expect(Set(ThemeRegistry.entries.map(\.folder)) == Set(folders.map { "Plugins/\($0)" }),
                "a folder under Plugins/ that is not in Package.swift's `themePlugins`, or the other way round")
        #expect(ThemeRegistry.entries.count == folders.count)
        for entry in ThemeRegistry.entries {
            // The convention the generated file compiles on: module and primary type share a name.
            #expect(String(reflecting: type(of: entry.plugin)) == "\(entry.module).\(entry.module)")
            #expect(entry.folder == "Plugins/\(entry.module.dropLast("Plugin".count))")
        }
    }

    @Test("the four plugins serve their themes; no theme is claimed twice; a theme without code gets the generic plugin")
    func lookup() {
        #expect(ThemeRegistry.plugin(for: "talent") is TalentPlugin)
        #expect(ThemeRegistry.plugin(for: "work") is WorkPlugin)
        #expect(ThemeRegistry.plugin(for: "health") is HealthPlugin)
        #expect(ThemeRegistry.plugin(for: "safety") is SafetyPlugin)
        #expect(ThemeRegistry.contested().isEmpty, "\(ThemeRegistry.contested())")
        let generic = ThemeRegistry.plugin(for: "zonder-code")
        #expect(generic is GenericPlugin && generic.theme == "zonder-code")
    }

    @Test("every registered plugin's theme is in the built-in plan, and every file in its data/ imports")
    func sampleData() throws {
        for entry in ThemeRegistry.entries {
            let theme = entry.plugin.theme
            #expect(plan.themes.contains { $0.id == theme }, "\(entry.module) serves `\(theme)`, which the built-in plan does not have")
            let data = repoRoot.appendingPathComponent(entry.folder).appendingPathComponent("data")
            let files = try FileManager.default.contentsOfDirectory(atPath: data.path).filter { $0.hasSuffix(".csv") }
            #expect(!files.isEmpty, "\(entry.folder)/data has no sample file")
            let importer = Importer(checker: ReportChecker(plan: plan, plugin: entry.plugin))
            for file in files {
                let seqs = try importer.importFile(data.appendingPathComponent(file).path, into: try tempOutbox(), reporter: "test", now: clockNow)
                #expect(!seqs.isEmpty, "\(entry.folder)/data/\(file) imported nothing")
            }
        }
    }
}
