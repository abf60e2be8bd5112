import Foundation
import Plan
import Status
import Testing
@testable import Aggregator

/// `koers council-report` with the real binary, over the store the demo leaves behind:
/// checked against the scenario's scripted facts (Sources/Demo/Scenario.swift) and
/// against `koers status --as-of --json`; determinism; an empty store; bad arguments;
/// the PDF rendered to PNGs kept in `.build/test-output/council-report/`.
@Suite("The council report", .serialized)
struct CouncilReportTests {
    static var outputFolder: String { repositoryRoot() + "/.build/test-output/council-report" }

    static func tempDir(_ what: String) throws -> String {
        let dir = NSTemporaryDirectory() + "koers-\(what)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The text of one `## ` section of the Markdown.
    static func section(_ md: String, _ heading: String) -> String {
        guard let start = md.range(of: "\n## " + heading) else { return "" }
        let rest = md[start.upperBound...]
        return String(rest[..<(rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex)])
    }

    @Test("the demo's end state: every theme and intervention, lagging items with owner and why, funding that ran out, counts equal koers status, byte-identical, PDF")
    func demo() async throws {
        let dir = try Self.tempDir("council")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (demoStatus, demoOut) = try await bounded(240, "the demo") {
            try runKoers(["demo", "--seconds", "40", "--quiet", "--dir", dir, "--http", "none"])
        }
        #expect(demoStatus == 0, "\(demoOut.suffix(2000))")
        let data = dir + "/data"
        let args = ["council-report", "--as-of", "2025-12-31", "--data", data]
        let (status, md) = try runKoers(args)
        #expect(status == 0, "\(md.suffix(2000))")
        let plan = try PlanLoader.loadDefault(path: nil)

        // Every theme and intervention.
        for t in plan.themes { #expect(md.contains("### " + t.name), "theme \(t.name) missing") }
        for (i, _, _) in plan.interventions { #expect(md.contains("#### " + i.name), "intervention \(i.name) missing") }

        // The counts equal koers status's, and every lagging item has its owner and why: at the
        // end of the scenario, and on 2024-10-01, when the werksferen lag and are taken on.
        try Self.checkAgainstStatus(md, plan: plan, data: data, asOf: "2025-12-31")
        let (status2, md2024) = try runKoers(["council-report", "--as-of", "2024-10-01", "--data", data])
        #expect(status2 == 0, "\(md2024.suffix(2000))")
        let lagging2024 = try Self.checkAgainstStatus(md2024, plan: plan, data: data, asOf: "2024-10-01")
        #expect(lagging2024 >= 1, "the scenario has lagging werksferen on 2024-10-01")
        #expect(md2024.contains("**Werksferen opgezet — ▼ achter.**"), "\(Self.section(md2024, "Voortgang per thema").prefix(4000))")
        try Self.checkNarrative(md2024, plan: plan, data: data, asOf: "2024-10-01")
        // The demo takes the werksferen on from 2024-10-01, on a clock that may have moved on a day
        // by then: the reason is checked at the end, where the item's history carries it.
        #expect(md.contains("“werkgeversoffensief gestart”"), "the reason given with the acknowledgement")
        let themes = Self.section(md, "Voortgang per thema")

        // The scenario's facts: the Sjpruut Sjop opened late; Sociaal Veilig's funding ran out on
        // 1 April 2023 and was secured again; werksferen lagged, were taken on, and recovered.
        let sjop = try #require(plan.milestones.first { $0.milestone.id == "sjpruut-sjop-open" }?.milestone)
        let opened = PlanDate(iso: "2022-11-15")!  // the scenario's report
        #expect(themes.contains("Op 15 november 2022 is “De Sjpruut Sjop gaat open” bereikt, \(Dutch.days(sjop.due.days(to: opened))) na de einddatum van 30 september 2022 "
                                + "(toelichting van het themateam: “geopend in Heerlerheide”)."), "\(themes.prefix(3000))")
        #expect(themes.contains("(2 van 2 scholen; toelichting van het themateam: “de Vlieger en de Horizon”)"), "the team's note with the report")
        let funding = Self.section(md, "Financiering")
        #expect(funding.contains("**Financiering aanpak Sociaal Veilig:**"), "\(funding)")
        #expect(funding.contains("was geborgd tot 1 april 2023"), "\(funding)")
        #expect(funding.contains("financiering loopt af"), "the funding alert and its resolution: \(funding)")
        #expect(themes.contains("Eerder in behandeling genomen op") && themes.contains("met als reden: “werkgeversoffensief gestart”"),
                "the acknowledgement's reason, with the werksferen now reached")
        #expect(themes.contains("programmabureau"))
        #expect(md.contains("## Wat is veranderd sinds 1 oktober 2025"))
        // The demo's compressed clock may date it a day either way.
        #expect(Self.section(md, "Wat is veranderd").contains("oktober 2025: Wijken in Heerlen-Noord met de aanpak Sociaal Veilig"),
                "the last milestone reached in the quarter")
        #expect(md.contains("## Bijlage: hoe de stand wordt bepaald"))
        try Self.checkNarrative(md, plan: plan, data: data, asOf: "2025-12-31")

        // Deterministic: Markdown and HTML byte-identical over two runs.
        let (_, again) = try runKoers(args)
        #expect(md == again)
        let (h1s, html1) = try runKoers(args + ["--format", "html"])
        let (_, html2) = try runKoers(args + ["--format", "html"])
        #expect(h1s == 0)
        #expect(html1 == html2)
        #expect(html1.contains("<svg") && html1.contains("@page { size: A4"))
        #expect(!html1.contains("<link") && !html1.contains("<script") && !html1.contains("src=\"http"), "self-contained")

        // The PDF, rendered to PNGs kept with the test output.
        try FileManager.default.createDirectory(atPath: Self.outputFolder, withIntermediateDirectories: true)
        for f in (try? FileManager.default.contentsOfDirectory(atPath: Self.outputFolder)) ?? [] {
            try? FileManager.default.removeItem(atPath: Self.outputFolder + "/" + f)
        }
        try Data(md.utf8).write(to: URL(fileURLWithPath: Self.outputFolder + "/voortgangsbrief.md"))
        try Data(html1.utf8).write(to: URL(fileURLWithPath: Self.outputFolder + "/voortgangsbrief.html"))
        let pdf = Self.outputFolder + "/voortgangsbrief.pdf"
        let (pdfStatus, pdfOut) = try await bounded(120, "chromium") { try runKoers(args + ["--format", "pdf", "--out", pdf]) }
        #expect(pdfStatus == 0, "\(pdfOut)")
        let head = try FileHandle(forReadingFrom: URL(fileURLWithPath: pdf)).readData(ofLength: 5)
        #expect(String(decoding: head, as: UTF8.self) == "%PDF-")
        let (ppmStatus, ppmOut) = try runProgram("/usr/bin/env", ["pdftoppm", "-png", "-r", "80", pdf, Self.outputFolder + "/page"])
        #expect(ppmStatus == 0, "pdftoppm (Debian's poppler-utils; make test installs it): \(ppmOut)")
        let pages = try FileManager.default.contentsOfDirectory(atPath: Self.outputFolder).filter { $0.hasPrefix("page") && $0.hasSuffix(".png") }
        #expect(pages.count >= 3, "pages: \(pages)")
    }

    /// Checks the report's counts against `koers status --as-of --json`, and that each lagging
    /// or overdue item is shown so, with its owner and why; returns how many there were.
    @discardableResult
    static func checkAgainstStatus(_ md: String, plan: Plan, data: String, asOf: String) throws -> Int {
        let (jsonStatus, json) = try runKoers(["status", "--as-of", asOf, "--json", "--data", data])
        #expect(jsonStatus == 0, "\(json)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let items = try #require(doc["items"] as? [[String: Any]])
        var counts: [String: Int] = [:]
        for i in items { counts[i["state"] as? String ?? "?", default: 0] += 1 }
        let words = ["on-track": "● op koers", "lagging": "▼ achter", "overdue": "✖ te laat", "unknown": "? onbekend", "done": "✔ gereed",
                     "at-risk": "▲ risico", "not-started": "○ niet gestart"]
        for (state, word) in words {
            let row = md.split(separator: "\n").first { $0.hasPrefix("| \(word) |") }
            let total = row.flatMap { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.last }
            #expect(total == String(counts[state] ?? 0), "\(asOf) \(word): report \(total ?? "-"), status \(counts[state] ?? 0)")
        }
        let owners = Dictionary(plan.interventions.flatMap { i in i.intervention.milestones.map { ($0.id, i.intervention.owner) } }, uniquingKeysWith: { a, _ in a })
        let orgNames = Dictionary(plan.organisations.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let names = Dictionary(plan.milestones.map { ($0.milestone.id, $0.milestone.name) } + plan.indicators.map { ($0.indicator.id, $0.indicator.name) },
                               uniquingKeysWith: { a, _ in a })
        let themes = section(md, "Voortgang per thema")
        let milestones = Dictionary(plan.milestones.map { ($0.milestone.id, $0.milestone) }, uniquingKeysWith: { a, _ in a })
        var lagging = 0
        for i in items {
            guard let id = i["item"] as? String, let state = i["state"] as? String, ["lagging", "overdue"].contains(state) else { continue }
            lagging += 1
            let name = try #require(names[id])
            if let owner = owners[id], let m = milestones[id] {
                // Its own paragraph: "**Werksferen opgezet — ▼ achter.** Laatst gemeld: …; volgens het plan werd … verwacht …"
                let paragraph = attentionParagraphs(themes, "**\(name) — \(words[state]!).**")
                #expect(!paragraph.isEmpty, "\(asOf) \(id) not shown as \(state)")
                #expect(paragraph.contains("Eigenaar is \(orgNames[owner] ?? owner)."), "\(asOf) \(id) without its owner: \(paragraph)")
                #expect(paragraph.contains(" verwacht") || paragraph.contains("verstreken") || paragraph.contains("geen "), "\(asOf) \(id) without why: \(paragraph)")
                // The figures are koers status's: the last value and the value expected on the path.
                let evidence = i["evidence"] as? [String: Any] ?? [:]
                if m.kind == .quantitative, let last = evidence["lastValue"] as? Double, let expected = evidence["expected"] as? Double, state == "lagging" {
                    #expect(paragraph.contains("Laatst gemeld: \(Dutch.number(last)) van \(Dutch.amount(m.target, unit: m.unit))"), "\(asOf) \(id): \(paragraph)")
                    #expect(paragraph.contains("\(Dutch.amount(expected, unit: m.unit)) verwacht"), "\(asOf) \(id) expected \(expected): \(paragraph)")
                }
                // Why beyond the figures, or that none was given; and what is being done, or that nothing is yet.
                #expect(paragraph.contains("Toelichting van het themateam") || paragraph.contains("een oorzaak is niet gemeld"), "\(asOf) \(id): \(paragraph)")
                #expect(paragraph.contains("In behandeling genomen op") || paragraph.contains("nog niet in behandeling genomen")
                        || !paragraph.contains("melding"), "\(asOf) \(id) without what is being done: \(paragraph)")
            } else {
                let part = section(md, "Indicatoren").components(separatedBy: "\n### ").first { $0.hasPrefix(name) } ?? ""
                #expect(part.contains(words[state]!) && part.contains("laatste meting"), "\(asOf) indicator \(id) without why: \(part)")
            }
        }
        return lagging
    }

    /// An item's paragraph that starts with `label`, and the "Wat er gebeurt." paragraph after it.
    static func attentionParagraphs(_ text: String, _ label: String) -> String {
        let paragraphs = text.components(separatedBy: "\n\n")
        guard let i = paragraphs.firstIndex(where: { $0.hasPrefix(label) }) else { return "" }
        return paragraphs[i] + (i + 1 < paragraphs.count && paragraphs[i + 1].hasPrefix("**Wat er gebeurt.**") ? "\n\n" + paragraphs[i + 1] : "")
    }

    /// The letter's prose against the store and the plan: every milestone named in its
    /// intervention; every done one "bereikt" with its date; each theme's state in the
    /// samenvatting as `koers status` rolls it up; the priority wijken; the funding counted
    /// from the plan, the amounts it has not named said to be unknown.
    static func checkNarrative(_ md: String, plan: Plan, data: String, asOf: String) throws {
        let (jsonStatus, json) = try runKoers(["status", "--as-of", asOf, "--json", "--data", data])
        #expect(jsonStatus == 0, "\(json)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let states = Dictionary(((doc["items"] as? [[String: Any]]) ?? []).compactMap { i in (i["item"] as? String).map { ($0, i["state"] as? String ?? "") } },
                                uniquingKeysWith: { a, _ in a })
        let rollups = Dictionary(((doc["rollups"] as? [[String: Any]]) ?? []).compactMap { r in (r["node"] as? String).map { ($0, r["state"] as? String ?? "") } },
                                 uniquingKeysWith: { a, _ in a })
        let words = ["on-track": "op koers", "lagging": "achter", "overdue": "te laat", "unknown": "onbekend", "done": "gereed",
                     "at-risk": "risico", "not-started": "niet gestart"]
        let themes = section(md, "Voortgang per thema"), summary = section(md, "Samenvatting")
        for (i, _, _) in plan.interventions {
            let part = themes.components(separatedBy: "\n#### ").first { $0.hasPrefix(i.name + "\n") } ?? ""
            #expect(part.contains("Eigenaar is "), "\(asOf) \(i.id) without its owner")
            for m in i.milestones {
                #expect(part.contains(m.name), "\(asOf) \(m.id) not named in its intervention")
                if states[m.id] == "done" { #expect(part.contains("is “\(m.name)” bereikt"), "\(asOf) \(m.id) done but not said so: \(part.prefix(1500))") }
            }
        }
        for t in plan.themes {
            let word = words[rollups["theme:\(t.id)"] ?? ""] ?? "?"
            #expect(summary.contains("- **\(t.name):** \(Dutch.symbol(ItemState(rawValue: rollups["theme:\(t.id)"] ?? "") ?? .unknown)) \(word) — "),
                    "\(asOf) theme \(t.id) not in the samenvatting as \(word)")
        }
        #expect(md.contains(plan.programme.ambition.dropFirst(1).prefix(60)), "the ambition, from the plan")
        let wijken = section(md, "Wijken")
        for a in plan.areas where a.priority { #expect(wijken.contains("**\(a.name):**"), "\(asOf) priority wijk \(a.id)") }
        #expect(wijken.contains("**Hoofdstraat-Kasteelbuurt:** De stand is onbekend: het plan heeft (nog) geen interventie met mijlpalen in deze wijk."))
        let funding = section(md, "Financiering")
        let unnamed = plan.funding.filter { $0.amountEUR == nil }.count
        #expect(funding.contains("Het Toekomstplan noemt \(plan.funding.count) financieringslijnen."), "\(funding.prefix(800))")
        #expect(funding.contains("bij de andere \(unnamed) noemt het plan geen bedrag, dat is hier dus onbekend"), "\(funding.prefix(800))")
    }

    @Test("an empty store says there is no data yet, rather than a report of zeros")
    func empty() throws {
        let dir = try Self.tempDir("council-empty")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try ReportStore(path: dir + "/data/aggregator/koers.sqlite")
        let (status, md) = try runKoers(["council-report", "--as-of", "2024-10-01", "--data", dir + "/data"])
        #expect(status == 0, "\(md)")
        #expect(md.contains("nog geen rapportages van de themateams ontvangen"), "\(md)")
        #expect(!md.contains("| Stand |"), "no table of zeros")
        #expect(!md.contains("## Indicatoren"))
        #expect(md.contains("## Financiering"))
        #expect(md.contains("## Planwijzigingen sinds 2 juli 2024") && md.contains("Het plan is in deze periode niet gewijzigd; deze brief rekent met planversie 1."), "\(md)")
    }

    @Test("bad arguments get clear errors")
    func arguments() throws {
        let dir = try Self.tempDir("council-args")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try ReportStore(path: dir + "/data/aggregator/koers.sqlite")
        let data = ["--data", dir + "/data"]
        for (args, message) in [(["--as-of", "2024-13-01"], "--as-of must be a date YYYY-MM-DD"),
                                (["--as-of", "2024-10-01", "--since", "2024-11-01"], "is after --as-of"),
                                (["--as-of", "2024-10-01", "--format", "docx"], "--format must be md, html or pdf"),
                                (["--as-of", "2024-10-01", "--format", "pdf"], "needs --out")] {
            let (status, out) = try runKoers(["council-report"] + args + data)
            #expect(status != 0)
            #expect(out.contains(message), "\(args): \(out)")
        }
        let (status, out) = try runKoers(["council-report", "--as-of", "2024-10-01", "--data", dir + "/nowhere"])
        #expect(status != 0)
        #expect(out.contains("no aggregator store at"), "\(out)")
    }
}
