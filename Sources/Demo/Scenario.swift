import Plan

/// The demo's story, built on the seed's plan: what each theme reports when, a theme
/// service that goes silent for six weeks, and the end state the story must reach.
public struct Scenario: Sendable {
    /// One scripted report: on `day` (simulated), `theme` reports `item` = `value`
    /// as of `asOf` (default: that day); indicators give a period.
    public struct Step: Sendable {
        public var day: PlanDate
        public var theme: String
        public var item: String
        public var value: Double
        public var asOf: PlanDate?
        public var period: (PlanDate, PlanDate)?
        public var note: String?
    }

    public var start: PlanDate
    public var end: PlanDate
    public var steps: [Step]
    /// The theme service stopped and restarted (simulated dates).
    public var silence: (theme: String, from: PlanDate, until: PlanDate)
    /// End-state checks: items in these states…
    public var finalStates: [String: String]
    /// …these alerts open at the end…
    public var openAtEnd: [String]
    /// …and these fired and resolved along the way.
    public var firedAndResolved: [String]

    static func d(_ s: String) -> PlanDate { PlanDate(iso: s)! }

    /// 2022 → 2025 on the built-in plan.
    public static let nphln: Scenario = {
        var s: [Step] = []
        func r(_ day: String, _ theme: String, _ item: String, _ value: Double, asOf: String? = nil, note: String? = nil) {
            s.append(Step(day: d(day), theme: theme, item: item, value: value, asOf: asOf.map(d), period: nil, note: note))
        }
        func m(_ day: String, _ theme: String, _ item: String, _ value: Double, _ from: String, _ to: String, note: String) {
            s.append(Step(day: d(day), theme: theme, item: item, value: value, asOf: nil, period: (d(from), d(to)), note: note))
        }
        // What the council letter reports as done, reported when the services start.
        r("2022-01-05", "talent", "rsd-eerste-scholen", 2, asOf: "2021-08-30", note: "de Vlieger en de Horizon")
        r("2022-01-05", "safety", "sociaal-veilig-gestart", 1, asOf: "2021-05-01")
        r("2022-01-05", "bestuurskracht", "toekomstplan-onderschreven", 0, asOf: "2022-01-05")
        r("2022-04-01", "bestuurskracht", "programmabureau-gestart", 1)
        r("2022-04-01", "safety", "sociaal-veilig-gms", 1)
        r("2022-05-16", "health", "saffierflat-verbouwing-gestart", 1, asOf: "2022-05-16")
        r("2022-06-17", "bestuurskracht", "toekomstplan-onderschreven", 1)
        r("2022-06-30", "safety", "pmg-concept-ingediend", 1)
        r("2022-07-01", "work", "bvs-vereniging-opgericht", 1)
        r("2022-07-01", "work", "bvs-do-vastgesteld", 1)
        r("2022-05-14", "health", "groen-bewonersinitiatieven", 3)
        r("2022-08-20", "health", "groen-bewonersinitiatieven", 6)
        r("2022-11-20", "health", "groen-bewonersinitiatieven", 10, note: "tien initiatieven ondersteund")
        r("2022-08-29", "talent", "rsd-drie-scholen-erbij", 1)
        r("2022-09-15", "safety", "vc-haalbaarheid", 1)
        // The Sjpruut Sjop opens late: overdue from October, done mid-November.
        r("2022-11-15", "talent", "sjpruut-sjop-open", 1, note: "geopend in Heerlerheide")
        r("2022-11-01", "health", "doorstroom-intentieovereenkomst", 1)
        r("2022-11-28", "safety", "vc-intentieovereenkomst", 1)
        r("2022-12-01", "safety", "pmg-toekenning", 1)
        r("2022-12-01", "health", "gms-agenda-opgesteld", 1)
        // The Vrieheide plan slips into 2023.
        r("2023-03-01", "health", "vrieheide-uitvoeringsplan", 1)
        r("2023-01-20", "talent", "rsd-drie-scholen-erbij", 2)
        r("2023-02-15", "talent", "rsd-voorloperstraject", 1)
        r("2023-05-01", "talent", "rsd-drie-scholen-erbij", 3)
        r("2023-05-01", "bestuurskracht", "rijksmiddelen-aangevraagd", 1)
        r("2023-05-15", "health", "doorstroom-vergunning", 1)
        // Sociaal Veilig's funding runs out on 1 April 2023 and is secured in May.
        r("2023-05-15", "safety", "sociaal-veilig-financiering", 1, note: "geborgd tot 2027")
        r("2023-10-01", "health", "saffierflat-inhuizing", 1)
        r("2023-10-31", "health", "doorstroom-wooneenheden", 10)
        r("2023-12-15", "health", "doorstroom-wooneenheden", 20)
        r("2023-11-15", "bestuurskracht", "governance-evaluatie", 1)
        r("2023-11-30", "work", "bvs-verbouwing-gereed", 1)
        r("2023-12-15", "talent", "kansrijk-van-start-afgerond", 1)
        // GMS café every two months from the try-out.
        for (i, day) in ["2022-06-15", "2022-08-15", "2022-10-15", "2022-12-15", "2023-02-15", "2023-04-15", "2023-06-15",
                         "2023-08-15", "2023-10-15", "2023-12-15"].enumerated() {
            r(day, "health", "gms-cafe", Double(i + 1))
        }
        // Werksferen: a good start, a stall through 2024 (lagging), recovery in 2025.
        r("2023-01-31", "work", "bvs-werksferen", 1); r("2023-06-30", "work", "bvs-werksferen", 2)
        r("2023-12-31", "work", "bvs-werksferen", 3); r("2024-03-31", "work", "bvs-werksferen", 4)
        r("2025-02-28", "work", "bvs-werksferen", 7); r("2025-06-30", "work", "bvs-werksferen", 9)
        r("2025-09-30", "work", "bvs-werksferen", 10, note: "alle tien werksferen draaien")
        r("2023-06-30", "work", "bvs-werkgevers", 12); r("2023-12-31", "work", "bvs-werkgevers", 28)
        r("2024-06-30", "work", "bvs-werkgevers", 38); r("2025-03-31", "work", "bvs-werkgevers", 70); r("2025-09-30", "work", "bvs-werkgevers", 96)
        r("2024-03-31", "work", "bvs-extra-naar-werk", 25); r("2024-12-31", "work", "bvs-extra-naar-werk", 80)
        r("2025-06-30", "work", "bvs-extra-naar-werk", 140); r("2025-12-15", "work", "bvs-extra-naar-werk", 185)
        // Slakhorst on its path; Sociaal Veilig rolls out.
        r("2024-06-30", "health", "slakhorst-woningen", 20); r("2024-12-31", "health", "slakhorst-woningen", 45)
        r("2025-06-30", "health", "slakhorst-woningen", 70); r("2025-12-15", "health", "slakhorst-woningen", 92)
        r("2023-09-01", "safety", "sociaal-veilig-uitrol", 5); r("2024-06-01", "safety", "sociaal-veilig-uitrol", 6)
        r("2025-03-01", "safety", "sociaal-veilig-uitrol", 7); r("2025-10-01", "safety", "sociaal-veilig-uitrol", 8)
        // CBS well-being (2013–2023 averages), published in 2024: happiness lags the path.
        m("2024-06-01", "health", "gelukkig", 82, "2013-01-01", "2023-12-31", note: "CBS, Het lage welzijn in Heerlen (2024)")
        m("2024-06-01", "health", "tevreden-met-leven", 79, "2013-01-01", "2023-12-31", note: "CBS, Het lage welzijn in Heerlen (2024)")
        m("2025-06-01", "safety", "persoonlijk-welzijn", 6.9, "2024-01-01", "2024-12-31", note: "voorbeeldmeting")
        m("2025-06-01", "health", "gelukkig", 83, "2024-01-01", "2024-12-31", note: "voorbeeldmeting")
        m("2025-06-01", "health", "tevreden-met-leven", 80, "2024-01-01", "2024-12-31", note: "voorbeeldmeting")
        return Scenario(
            start: d("2022-01-01"), end: d("2025-12-31"), steps: s.sorted { $0.day < $1.day },
            silence: ("work", d("2023-06-10"), d("2023-07-20")),
            finalStates: ["bvs-werksferen": "done", "sjpruut-sjop-open": "done", "sociaal-veilig-financiering": "done",
                          "vrieheide-uitvoeringsplan": "done", "gelukkig": "lagging", "sociaal-veilig-uitrol": "done"],
            openAtEnd: ["indicator-lagging:gelukkig"],
            firedAndResolved: ["milestone-overdue:sjpruut-sjop-open", "milestone-overdue:vrieheide-uitvoeringsplan",
                               "funding-expiring:sociaal-veilig", "theme-silent:work", "milestone-lagging:bvs-werksferen"])
    }()
}
