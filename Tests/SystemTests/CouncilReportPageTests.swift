import Foundation
import Plan
import Status
import Testing
import Wire
@testable import ThemeService

/// The council report as the web server's page (`GET /rapport`) and with a re-planned
/// plan: a real aggregator with its HTTP server, running a revised copy of the built-in
/// plan (two revisions, one before and one inside the report's period), two real theme
/// services, reports through their outboxes; then the page against
/// `koers council-report --format html` over the same store, and the revisions in the letter.
@Suite("The council report page and plan revisions, with real processes", .serialized)
struct CouncilReportPageTests {
    /// Revision 2 (1 March 2023) moves the doorstroom permit's due date; revision 3
    /// (15 August 2024, inside a report's quarter) gives the werkgevers half a year more
    /// and raises Slakhorst's target. The plan file holds the current values, as
    /// docs/plan-format.md asks, so `koers plan check` accepts it.
    static func revisedPlan() throws -> String {
        var yaml = try String(contentsOf: repoRoot.appendingPathComponent("plans/nphln.yaml"), encoding: .utf8)
        for (old, new) in [("start: 2023-01-01\n                due: 2023-06-30\n", "start: 2023-01-01\n                due: 2023-12-31\n"),
                           ("due: 2026-06-30\n                cadence: P1M\n                depends-on: [bvs-werksferen]",
                            "due: 2026-12-31\n                cadence: P1M\n                depends-on: [bvs-werksferen]"),
                           ("target: 140\n                unit: woningen", "target: 150\n                unit: woningen")] {
            guard yaml.components(separatedBy: old).count == 2 else { throw TestFailure("the built-in plan changed: `\(old)` is not there once") }
            yaml = yaml.replacingOccurrences(of: old, with: new)
        }
        return yaml + """

            revisions:
              - version: 2
                date: 2023-03-01
                reason: Aanbesteding vertraagd
                changes:
                  - { item: doorstroom-vergunning, field: due, from: 2023-06-30, to: 2023-12-31 }
              - version: 3
                date: 2024-08-15
                reason: Werkgeversoffensief, Slakhorst breidt uit
                changes:
                  - { item: bvs-werkgevers, field: due, from: 2026-06-30, to: 2026-12-31 }
                  - { item: slakhorst-woningen, field: target, from: 140, to: 150 }

            """
    }

    /// Milliseconds at the start of a date.
    static func ms(_ iso: String) -> Int64 { Int64(PlanDate(iso: iso)!.daysSinceEpoch) * 86_400_000 }

    /// A workspace running the revised plan on a clock that stands at 1 October 2024, with
    /// reports from work and health in the store; `body` gets the workspace and the plan file.
    func withRevisedAggregator(_ body: (Workspace, String) async throws -> Void) async throws {
        let ws = try Workspace()
        let planFile = ws.dir + "/plan.yaml"
        try Self.revisedPlan().write(toFile: planFile, atomically: true, encoding: .utf8)
        let (checkStatus, checkOut) = try runKoers(["plan", "check", planFile])
        #expect(checkStatus == 0, "\(checkOut)")
        let at = Self.ms("2024-09-30")
        func m(_ theme: String, _ item: String, _ value: Double, _ asOf: String, note: String? = nil) -> Payload {
            .milestoneProgress(MilestoneProgress(theme: theme, item: item, value: value, asOf: PlanDate(iso: asOf)!, reportedAt: at, note: note))
        }
        // Into the outboxes before the services start (two processes creating one outbox race).
        _ = try ws.outbox("work").enqueue([m("work", "bvs-vereniging-opgericht", 1, "2022-07-01"), m("work", "bvs-werkgevers", 28, "2023-12-31"),
                                          m("work", "bvs-werkgevers", 30, "2024-03-31", note: "werkgevers haken af"),
                                          m("work", "bvs-werkgevers", 38, "2024-09-30")], now: at)
        _ = try ws.outbox("health").enqueue([m("health", "doorstroom-intentieovereenkomst", 1, "2022-11-01"),
                                            m("health", "doorstroom-vergunning", 1, "2023-10-15"), m("health", "slakhorst-woningen", 20, "2024-06-30")], now: at)
        // One shared simulated clock that stands still on 1 October 2024: the page's default date.
        let clock = ["--clock-start", "2024-10-01", "--clock-stop", "2024-10-01", "--clock-origin", "\(Int64(Date().timeIntervalSince1970 * 1000))"]
        let aggregator = try ws.aggregator(["--plan", planFile] + clock)
        let services = try ["work", "health"].map { theme in
            try Child(["theme", "run", theme, "--keys", ws.keys, "--data", ws.data, "--aggregator", ws.endpoint, "--plan", planFile] + clock,
                      log: ws.dir + "/\(theme).log")
        }
        defer { services.forEach { $0.stop() }; aggregator.stop() }
        try eventually("the reports acknowledged", within: 90) {
            try ws.outbox("work").summary().acked == 4 && ws.outbox("health").summary().acked == 3
        }
        try await body(ws, planFile)
    }

    /// `koers council-report` over the workspace's store with the revised plan.
    static func report(_ ws: Workspace, _ planFile: String, _ args: [String]) throws -> String {
        let (status, out) = try runKoers(["council-report"] + args + ["--plan", planFile, "--data", ws.data])
        #expect(status == 0, "\(out.suffix(2000))")
        return out
    }

    /// The first line where two texts differ, for a failure message.
    static func firstDifference(_ a: String, _ b: String) -> String {
        let x = a.components(separatedBy: "\n"), y = b.components(separatedBy: "\n")
        for i in 0..<max(x.count, y.count) where (i < x.count ? x[i] : "<end>") != (i < y.count ? y[i] : "<end>") {
            return "line \(i + 1):\n  page: \((i < x.count ? x[i] : "<end>").prefix(300))\n  cli:  \((i < y.count ? y[i] : "<end>").prefix(300))"
        }
        return "identical"
    }

    @Test("GET /rapport is koers council-report --format html for the same store and date, with as_of and since; bad parameters get a clear 400")
    func page() async throws {
        try await bounded(240, "the council report page") {
            try await withRevisedAggregator { ws, planFile in
                let cases: [(query: String, args: [String])] = [
                    ("?as_of=2024-10-01&since=2024-07-01", ["--as-of", "2024-10-01", "--since", "2024-07-01"]),
                    ("?as_of=2024-10-01", ["--as-of", "2024-10-01"]),
                    ("", ["--as-of", "2024-10-01"]),  // the aggregator's own date: its clock stands on 1 October 2024
                    ("?as_of=2024-08-01&since=", ["--as-of", "2024-08-01"]),
                ]
                for c in cases {
                    // The aggregator applies what it stored moments after acknowledging it: compare once both settle.
                    var last = (page: (status: 0, body: ""), cli: "")
                    try? eventually("the page equal to the command for `\(c.query)`", within: 30) {
                        last = (try httpGet(ws.httpURL + "/rapport" + c.query, headers: []), try Self.report(ws, planFile, c.args + ["--format", "html"]))
                        return last.page.status == 200 && last.page.body == last.cli
                    }
                    #expect(last.page.status == 200, "\(c.query): \(last.page.body.prefix(500))")
                    #expect(last.page.body == last.cli, "\(c.query): \(Self.firstDifference(last.page.body, last.cli))")
                    #expect(last.cli.hasPrefix("<!DOCTYPE html>") && last.cli.contains("<h2 id=\"thema\">Voortgang per thema</h2>"))
                }
                for (query, status, message) in [("?as_of=2024-13-01", 400, "`as_of=2024-13-01` is geen datum; schrijf JJJJ-MM-DD"),
                                                 ("?as_of=gisteren", 400, "`as_of=gisteren` is geen datum"),
                                                 ("?as_of=2024-10-01&since=2024-7-1", 400, "`since=2024-7-1` is geen datum; schrijf JJJJ-MM-DD"),
                                                 ("?as_of=2024-10-01&since=2024-11-01", 400, "`since` ligt na de stand per 2024-10-01"),
                                                 ("?since=2024-10-02", 400, "`since` ligt na de stand per 2024-10-01")] {
                    let r = try httpGet(ws.httpURL + "/rapport" + query, headers: [])
                    #expect(r.status == status, "\(query): \(r.status) \(r.body.prefix(300))")
                    #expect(r.body.contains(message), "\(query): \(r.body.prefix(300))")
                }
            }
        }
    }

    @Test("plan revisions appear as such: herpland van … naar …, planversie N, at the milestone and under wat is veranderd; never before their date")
    func revisions() async throws {
        try await bounded(240, "the council report with a revised plan") {
            try await withRevisedAggregator { ws, planFile in
                let (histStatus, hist) = try runKoers(["plan", "history", "--plan", planFile])
                #expect(histStatus == 0 && hist.contains("bvs-werkgevers"), "\(hist)")

                let md = try Self.report(ws, planFile, ["--as-of", "2024-10-01", "--since", "2024-07-01"])
                let themes = CouncilReportTests.section(md, "Voortgang per thema"), changed = CouncilReportTests.section(md, "Wat is veranderd")
                let werkgevers = "de einddatum van “Werkgevers aangesloten (rond de 10 per werksfeer)” is herpland van 30 juni 2026 naar 31 december 2026, "
                    + "planversie 3 (15 augustus 2024: Werkgeversoffensief, Slakhorst breidt uit)"
                let slakhorst = "het doel van “Woningen in Slakhorst gerevitaliseerd of herbouwd” is herpland van 140 woningen naar 150 woningen, planversie 3"
                let vergunning = "de einddatum van “Vergunning doorstroomwoningen verleend” is herpland van 30 juni 2023 naar 31 december 2023, planversie 2 (1 maart 2023: Aanbesteding vertraagd)"
                #expect(md.contains("**Verslagperiode** wat is veranderd sinds 1 juli 2024; planversie 3"), "\(md.prefix(600))")
                for text in [werkgevers, slakhorst, vergunning] {
                    #expect(themes.contains("**Herpland.**") && themes.contains(text.capitalizedFirstLetter), "at the milestone: \(text)\n\(themes.prefix(6000))")
                }
                // In the period: revision 3, not revision 2 (before 1 July 2024).
                let revisions = changed.components(separatedBy: "### Planwijzigingen").dropFirst().first ?? ""
                #expect(revisions.contains(werkgevers.capitalizedFirstLetter) && revisions.contains(slakhorst.capitalizedFirstLetter), "\(changed)")
                #expect(!revisions.contains("Vergunning doorstroomwoningen"), "\(revisions)")
                // Reported only now, reached long before: the period says both dates.
                #expect(changed.contains("Vergunning doorstroomwoningen verleend (gereed gemeld; bereikt op 15 oktober 2023)"), "\(changed)")
                #expect(md.contains("2 planwijzigingen"), "counted in the samenvatting")
                // The werkgevers are judged against the re-planned path (on the old one, 38 of 100 would be 18 % behind:
                // achter), and the letter says so where it names the due date; its figures are koers status's.
                let (jsonStatus, json) = try runKoers(["status", "--as-of", "2024-10-01", "--json", "--plan", planFile, "--data", ws.data])
                #expect(jsonStatus == 0)
                let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
                let item = try #require((doc["items"] as? [[String: Any]])?.first { $0["item"] as? String == "bvs-werkgevers" })
                let evidence = try #require(item["evidence"] as? [String: Any])
                let expected = try #require(evidence["expected"] as? Double), deviation = try #require(evidence["deviation"] as? Double)
                #expect(item["state"] as? String == "at-risk", "\(item)")
                let paragraph = CouncilReportTests.attentionParagraphs(themes, "**Werkgevers aangesloten (rond de 10 per werksfeer) — ▲ risico.**")
                #expect(paragraph.contains("Laatst gemeld: 38 van 100 werkgevers op 30 september 2024; volgens het plan werd op 1 oktober 2024 "
                                           + "\(Dutch.amount(expected, unit: "werkgevers")) verwacht, \(Dutch.percent(deviation)) van de hele weg achter (binnen de marge van 15 %)"),
                        "\(paragraph)")
                #expect(paragraph.contains("na de einddatum van 31 december 2026 (herpland in planversie 3, was 30 juni 2026)"), "\(paragraph)")
                #expect(paragraph.contains("Toelichting van het themateam bij de rapportage van 31 maart 2024: “werkgevers haken af”."), "\(paragraph)")
                // Reached on 15 October 2023, before the re-planned due date: not late, and the move is shown.
                #expect(themes.contains("Op 15 oktober 2023 is “Vergunning doorstroomwoningen verleend” bereikt."), "\(themes.prefix(6000))")

                // As of 1 August 2024 the plan was at version 2: revision 3 is not yet there, the old due date holds.
                let before = try Self.report(ws, planFile, ["--as-of", "2024-08-01", "--since", "2024-05-02"])
                #expect(before.contains("planversie 2") && !before.contains("planversie 3"), "\(before.prefix(600))")
                #expect(before.contains(vergunning.capitalizedFirstLetter))
                #expect(!before.contains("31 december 2026") && !before.contains("150 woningen"), "\(before)")
                // Deterministic with revisions too.
                #expect(try Self.report(ws, planFile, ["--as-of", "2024-10-01", "--since", "2024-07-01"]) == md)
            }
        }
    }
}

extension String {
    var capitalizedFirstLetter: String { prefix(1).uppercased() + dropFirst() }
}
