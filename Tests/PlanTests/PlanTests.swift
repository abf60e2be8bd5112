import Testing
@testable import Plan

/// A small valid plan; tests break it one way at a time.
let minimalPlan = """
koers-plan: 1
programme:
  id: p
  name: Test programme
  ambition: Catch up.
  horizon: { start: 2022-01-01, end: 2047-12-31 }
leefgebieden:
  - { id: leren, name: Leren }
areas:
  - { id: gms, name: GMS }
organisations:
  - { id: gemeente, name: Gemeente }
funding:
  - id: fonds
    name: Fonds
    source: Rijk
    period: { start: 2022-01-01, end: 2025-12-31 }
    secured-until: 2023-04-01
themes:
  - id: talent
    name: Talent
    leefgebieden: [leren]
    heartbeat: P1D
    goals:
      - id: g
        name: Goal
        interventions:
          - id: i
            name: Intervention
            owner: gemeente
            areas: [gms]
            funding: [fonds]
            milestones:
              - id: a
                name: A
                kind: quantitative
                baseline: 0
                target: 10
                unit: scholen
                start: 2022-01-01
                due: 2023-01-01
                cadence: P1M
              - id: b
                name: B
                kind: binary
                start: 2022-06-01
                due: 2023-04-01
                cadence: P1M
                depends-on: [a]
                secures: fonds
        indicators:
          - id: x
            name: X
            unit: "%"
            direction: higher-is-better
            baseline: { value: 80, year: 2020 }
            references: { nederland: 88 }
            target: { value: 88, year: 2047, basis: national-average }
            cadence: P1Y
            source: { name: CBS }
"""

func load(_ text: String) throws(PlanError) -> Plan {
    try PlanLoader.load(yaml: text, file: "t.yaml")
}

/// The diagnostics a broken plan gets.
func problems(_ text: String) -> [PlanDiagnostic] {
    do {
        _ = try load(text)
        return []
    } catch {
        return error.diagnostics
    }
}

@Suite("Plan files")
struct PlanTests {
    @Test("the minimal plan is valid")
    func minimalIsValid() throws {
        let plan = try load(minimalPlan)
        #expect(plan.milestones.count == 2)
        #expect(plan.indicators.count == 1)
        #expect(plan.version == 1)
        #expect(plan.milestones[1].milestone.kind == .binary)
        #expect(plan.milestones[1].milestone.target == 1)
    }

    @Test("each kind of mistake is reported with its line and fix", arguments: [
        // (replace, with, expected message fragment, expected line)
        ("due: 2023-01-01", "due: 2021-06-01", "is due 2021-06-01, before its start 2022-01-01", 41),
        ("depends-on: [a]", "depends-on: [aa]", "depends on unknown milestone `aa`", 49),
        ("areas: [gms]", "areas: [gmz]", "unknown area `gmz`", 31),
        ("owner: gemeente", "owner: gemeent", "unknown organisation `gemeent`", 30),
        ("leefgebieden: [leren]", "leefgebieden: [wonen]", "unknown leefgebied `wonen`", 22),
        ("target: { value: 88, year: 2047, basis: national-average }", "target: { value: 70, year: 2047, basis: threshold }",
         "is higher-is-better but its target 70 is not beyond its baseline 80", 58),
        ("              - id: b\n", "              - id: a\n", "duplicate id `a`", 43),
        ("cadence: P1Y", "cadence: yearly", "cannot read the value `yearly` as a cadence", 59),
        ("start: 2022-06-01", "start: 2022-02-30", "cannot read the value `2022-02-30` as a date", 46),
        ("unit: scholen", "unti: scholen", "unknown key `unti`", 39),
        ("kind: binary", "kind: binairy", "is not one of binary, quantitative", 45),
        ("secures: fonds", "note: nothing secures it", "secured only until 2023-04-01, but no milestone secures", 18),
        ("target: 10", "target: 0", "equal to its baseline", 38),
        ("baseline: 0\n", "baseline: lots\n", "expected a number", 37),
        ("    heartbeat: P1D\n", "", "missing `heartbeat`", 20),
        // Found while writing the plan fuzz target (Fuzz/PlanFuzz.swift): these loaded, and
        // the status model's day arithmetic on them trapped on overflow.
        ("cadence: P1Y", "cadence: P999999999999999999Y", "cadence `P999999999999999999Y` is longer than a hundred years", 59),
        ("    heartbeat: P1D\n", "    heartbeat: P9999999999999D\n", "cadence `P9999999999999D` is longer than a hundred years", 23),
        ("cadence: P1M", "cadence: P1201M", "cadence `P1201M` is longer than a hundred years", 42),
    ] as [(String, String, String, Int)])
    func mistakes(replace: String, with replacement: String, expected: String, line: Int) throws {
        #expect(minimalPlan.contains(replace), "fixture changed: \(replace)")
        let found = problems(minimalPlan.replacingFirst(replace, with: replacement))
        let match = found.first { $0.message.contains(expected) }
        #expect(match != nil, "expected “\(expected)”, got \(found.map(\.description))")
        #expect(match?.line == line, "line of “\(expected)”: \(match?.line ?? 0)")
        #expect(match?.fix != nil)
        #expect(match?.file == "t.yaml")
    }

    @Test("a dependency cycle is found and named")
    func cycle() {
        let text = minimalPlan.replacingFirst("                cadence: P1M\n              - id: b",
                                               with: "                cadence: P1M\n                depends-on: [b]\n              - id: b")
        let found = problems(text)
        #expect(found.contains { $0.message.contains("dependency cycle: a → b → a") || $0.message.contains("dependency cycle: b → a → b") },
                "\(found)")
    }

    @Test("every problem is reported, not just the first")
    func allProblems() {
        let text = minimalPlan
            .replacingFirst("due: 2023-01-01", with: "due: 2021-06-01")
            .replacingFirst("areas: [gms]", with: "areas: [gmz]")
            .replacingFirst("unit: scholen", with: "unti: scholen")
            .replacingFirst("cadence: P1Y", with: "cadence: yearly")
        let found = problems(text)
        #expect(found.count == 5, "\(found.map(\.description))")  // unti also leaves `unit` missing
        #expect(found.map(\.line) == found.map(\.line).sorted())
    }

    @Test("YAML syntax errors carry their position")
    func syntax() {
        let found = problems("koers-plan: 1\nprogramme: [unclosed\n")
        #expect(found.count == 1)
        #expect(found[0].message.hasPrefix("YAML syntax"))
        #expect(found[0].line >= 2)
    }

    @Test("revisions are checked and let the plan be read as of a version or date")
    func revisions() throws {
        let revised = minimalPlan
            .replacingFirst("due: 2023-01-01", with: "due: 2023-06-30")
            + """

            revisions:
              - version: 2
                date: 2022-09-01
                reason: Aanbesteding vertraagd
                changes:
                  - { item: a, field: due, from: 2023-01-01, to: 2023-06-30 }
            """
        let plan = try load(revised)
        #expect(plan.version == 2)
        #expect(plan.milestones[0].milestone.due == PlanDate(iso: "2023-06-30"))
        let original = plan.at(version: 1)
        #expect(original.milestones[0].milestone.due == PlanDate(iso: "2023-01-01"))
        #expect(plan.asOf(PlanDate(iso: "2022-08-31")!).milestones[0].milestone.due == PlanDate(iso: "2023-01-01"))
        #expect(plan.asOf(PlanDate(iso: "2022-09-01")!).milestones[0].milestone.due == PlanDate(iso: "2023-06-30"))
        #expect(plan.history(of: "a").count == 1)

        // A changed due date without a revision that says so is refused.
        let silent = revised.replacingFirst("due: 2023-06-30", with: "due: 2023-09-30")
        #expect(problems(silent).contains { $0.message.contains("is 2023-09-30 in the plan, but its last revision 2 set it to 2023-06-30") })
        // Versions must follow each other.
        let skipped = revised.replacingFirst("version: 2", with: "version: 3")
        #expect(problems(skipped).contains { $0.message.contains("expected version 2") })
    }

    @Test("the built-in plan is valid and carries the seed's interventions")
    func builtIn() throws {
        let plan = try PlanLoader.loadDefault(path: nil)
        #expect(plan.themes.map(\.id) == ["talent", "work", "health", "safety", "bestuurskracht"])
        let interventions = Set(plan.interventions.map(\.intervention.id))
        for id in ["rijke-schooldagen", "kansrijke-start", "bovengrondse-vakschool", "saffierflat", "slakhorst",
                   "doorstroomwoningen", "gms-uitvoeringsagenda", "vrieheide-wijkaanpak", "groen-samen-doen",
                   "sociaal-veilig", "veiligheidscentrum", "preventie-met-gezag", "programmabureau", "governance",
                   "uitvoeringsprogramma"] {
            #expect(interventions.contains(id), "missing intervention \(id)")
        }
        let catalog = PlanCatalog(plan)
        guard case .milestone(let bvs, let theme) = catalog.items["bvs-extra-naar-werk"] else {
            Issue.record("bvs-extra-naar-werk missing"); return
        }
        #expect(theme == "work" && bvs.target == 300)
        guard case .milestone(let slakhorst, _) = catalog.items["slakhorst-woningen"] else { Issue.record("slakhorst"); return }
        #expect(slakhorst.target == 140)
        guard case .milestone(let sv, _) = catalog.items["sociaal-veilig-financiering"] else { Issue.record("sv"); return }
        #expect(sv.due == PlanDate(iso: "2023-04-01") && sv.secures == "sociaal-veilig")
        #expect(plan.funding.first { $0.id == "dusv-2022" }?.amountEUR == 725_000)
        #expect(plan.funding.first { $0.id == "vhf-programmaorganisatie" }?.amountEUR == 500_000)
        #expect(catalog.suggestions(for: "saffierflat-inhuzing").first == "saffierflat-inhuizing")
    }
}

@Suite("Dates and cadences")
struct DateTests {
    @Test func parsing() {
        #expect(PlanDate(iso: "2024-02-29")?.iso == "2024-02-29")
        #expect(PlanDate(iso: "2023-02-29") == nil)
        #expect(PlanDate(iso: "2023-2-1") == nil)
        #expect(PlanDate(iso: "1970-01-01")?.daysSinceEpoch == 0)
        #expect(PlanDate(iso: "2000-03-01")?.daysSinceEpoch == 11017)
    }

    @Test func arithmetic() {
        let jan31 = PlanDate(iso: "2023-01-31")!
        #expect(jan31.adding(months: 1).iso == "2023-02-28")
        #expect(jan31.adding(months: -2).iso == "2022-11-30")
        #expect(jan31.adding(days: 1).iso == "2023-02-01")
        #expect(Cadence(iso: "P3M")!.after(jan31).iso == "2023-04-30")
        #expect(Cadence(iso: "P2W")!.after(jan31).iso == "2023-02-14")
        #expect(Cadence(iso: "P1Y")!.approximateDays == 365)
        #expect(Cadence(iso: "P0M") == nil)
        #expect(Cadence(iso: "1M") == nil)
        #expect(Cadence(iso: "P1H") == nil)
        #expect(Cadence(iso: "P100Y")!.approximateDays == 36_500)
        #expect(Cadence(iso: "P36525D")!.after(jan31).iso == "2123-02-01")
        #expect(Cadence(iso: "P101Y") == nil && Cadence.isTooLong(iso: "P101Y") && !Cadence.isTooLong(iso: "P100Y"))
        #expect(Cadence(count: Int.max / 2, unit: .week) == nil)
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let r = range(of: target) else { return self }
        return replacingCharacters(in: r, with: replacement)
    }
}

@Suite("Plan dates")
struct PlanDateTests {
    @Test("every day from 1900 to 2100 formats as YYYY-MM-DD and reads back")
    func roundTrip() {
        let first = PlanDate(year: 1900, month: 1, day: 1)!, last = PlanDate(year: 2100, month: 12, day: 31)!
        for day in first.daysSinceEpoch...last.daysSinceEpoch {
            let d = PlanDate(daysSinceEpoch: day)
            let (y, m, dd) = d.components
            let text = d.iso
            #expect(text.utf8.count == 10)
            #expect(PlanDate(iso: text) == d, "\(text)")
            #expect(text == "\(y)-\(m < 10 ? "0" : "")\(m)-\(dd < 10 ? "0" : "")\(dd)")
        }
    }

    @Test("text that is not a real date in that form is refused",
          arguments: ["2023-2-01", "2023-02-30", "2023-13-01", "2023-00-10", "2023-02-01x", "abcd-ef-gh", "+023-01-01",
                      "2023/02/01", "", "２０２３-01-01", "2023-0１-01"])
    func refused(_ text: String) {
        #expect(PlanDate(iso: text) == nil)
    }
}
