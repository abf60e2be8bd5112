import Plan

/// The programme's own words, in Dutch, for what the status model says: states, dates,
/// numbers and the *why* of an item, for the web pages and the council report. Made
/// from the evidence's fields, never from the English summary, so both say the same
/// thing in the register the council reads.
public enum Dutch {
    /// A state as a word (`op koers`, `achter`, `te laat` …).
    public static func word(_ s: ItemState) -> String {
        switch s {
        case .done: "gereed"
        case .notStarted: "niet gestart"
        case .onTrack: "op koers"
        case .atRisk: "risico"
        case .lagging: "achter"
        case .overdue: "te laat"
        case .unknown: "onbekend"
        }
    }

    /// A state's symbol, always shown beside its word (never colour alone).
    public static func symbol(_ s: ItemState) -> String {
        switch s {
        case .done: "✔"
        case .notStarted: "○"
        case .onTrack: "●"
        case .atRisk: "▲"
        case .lagging: "▼"
        case .overdue: "✖"
        case .unknown: "?"
        }
    }

    public static func word(_ s: Severity) -> String {
        switch s {
        case .info: "info"
        case .warning: "waarschuwing"
        case .critical: "kritiek"
        }
    }

    public static func word(_ s: AlertState) -> String {
        switch s {
        case .pending: "in afwachting"
        case .firing: "actief"
        case .acknowledged: "in behandeling"
        case .flapping: "wisselend"
        case .resolved: "opgelost"
        }
    }

    /// What to do about an alert of a rule, for the programme's own readers (the
    /// operators' runbook, `Runbook`, says the same in the operators' terms).
    public static func action(rule: String) -> String {
        switch rule {
        case "milestone-overdue": "vraag de eigenaar om de nieuwe datum en leg die vast als planwijziging, zodat de verschuiving zichtbaar blijft"
        case "milestone-lagging": "bespreek de achterstand met de eigenaar; neem de melding in behandeling met diens plan, of herplan"
        case "milestone-at-risk": "ter kennisneming: bespreek het bij het volgende overleg met de eigenaar"
        case "indicator-lagging": "een zaak voor het themaprogramma; in behandeling nemen tot de volgende meting"
        case "data-missing": "vraag het themateam om te rapporteren; ontbrekende gegevens tellen als onbekend, niet als op koers"
        case "funding-expiring": "agenderen bij de alliantie; de mijlpaal die de financiering borgt sluit de melding"
        case "theme-silent": "de themadienst is niet bereikbaar: vraag het team de dienst te controleren; er gaat niets verloren, de dienst verstuurt alles opnieuw"
        default: "zie het draaiboek (docs/operations.md)"
        }
    }

    static let months = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"]

    /// `31 december 2025`.
    public static func date(_ d: PlanDate) -> String {
        let c = d.components
        return "\(c.day) \(months[c.month - 1]) \(c.year)"
    }

    /// A number with a decimal comma and a point between thousands: `1.250`, `7,2`.
    public static func number(_ v: Double, decimals: Int = 1) -> String {
        let scale = Double(Int(pow10(decimals)))
        let rounded = (v * scale).rounded() / scale
        let negative = rounded < 0
        let whole = Int(abs(rounded).rounded(.down))
        var fraction = Int(((abs(rounded) - Double(whole)) * scale).rounded())
        var wholeText = String(whole)
        if fraction >= Int(scale) { fraction = 0; wholeText = String(whole + 1) }
        var grouped = ""
        for (i, c) in wholeText.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { grouped.append(".") }
            grouped.append(c)
        }
        var text = (negative ? "-" : "") + String(grouped.reversed())
        if fraction > 0 {
            var f = String(fraction)
            f = String(repeating: "0", count: max(0, decimals - f.count)) + f
            while f.hasSuffix("0") { f.removeLast() }
            text += "," + f
        }
        return text
    }

    static func pow10(_ n: Int) -> Double { (0..<n).reduce(1) { r, _ in r * 10 } }

    /// A fraction as a percentage: `22 %`.
    public static func percent(_ f: Double) -> String { "\(Int((f * 100).rounded())) %" }

    /// Why an item is in its state, in one Dutch sentence from its evidence:
    /// "5 van 10 werksferen op 31 maart 2024; 7,2 verwacht (22 % achter)".
    public static func why(_ status: ItemStatus, target: Double?, unit: String?, due: PlanDate?, binary: Bool = false) -> String {
        let e = status.evidence
        let u = unit.map { $0.isEmpty ? "" : " \($0)" } ?? ""
        var parts: [String] = []
        if binary, let v = e.lastValue, let d = e.lastDate {
            parts.append(v >= (target ?? 1) ? "gereed op \(date(d))" : "nog niet gereed (gemeld op \(date(d)))")
        } else if let v = e.lastValue, let d = e.lastDate {
            let of = target.map { " van \(number($0))" } ?? ""
            parts.append("\(number(v))\(of)\(u) op \(date(d))")
        }
        if let x = e.expected, status.state != .done, status.state != .notStarted, !binary {
            var s = "\(number(x)) verwacht"
            if let dev = e.deviation, dev > 0.005 { s += " (\(percent(dev)) achter)" }
            parts.append(s)
        }
        if let f = e.forecast, status.state != .done {
            parts.append("prognose gereed \(date(f))" + (due.map { f > $0 ? ", na de einddatum \(date($0))" : "" } ?? ""))
        }
        switch status.state {
        case .unknown where e.lastValue == nil: parts.insert("geen gegevens ontvangen", at: 0)
        case .overdue where e.lastValue == nil:
            parts.insert("geen rapportage ontvangen", at: 0)
            if let due { parts.append("einddatum \(date(due)) verstreken") }
        case .unknown: parts.append("gegevens verouderd of themadienst stil")
        case .overdue: if let due { parts.append("einddatum \(date(due)) verstreken") }
        case .notStarted: parts.append("nog niet begonnen")
        default: break
        }
        if parts.isEmpty && status.state == .onTrack { return "nog geen rapportage, volgens de planning nog niet nodig" }
        return parts.isEmpty ? word(status.state) : parts.joined(separator: "; ")
    }

    /// What an alert's rule says, as a noun phrase: "mijlpaal over de einddatum".
    public static func rule(_ rule: String) -> String {
        switch rule {
        case "milestone-overdue": "mijlpaal over de einddatum"
        case "milestone-lagging": "mijlpaal loopt achter"
        case "milestone-at-risk": "mijlpaal in gevaar"
        case "indicator-lagging": "indicator blijft achter bij het pad"
        case "data-missing": "gegevens ontbreken"
        case "funding-expiring": "financiering loopt af"
        case "theme-silent": "themadienst stil"
        default: rule
        }
    }

    /// A figure with its unit: `%` attaches to the number, other units take a space
    /// (`83,6%`, `140 woningen`); `done` (a binary milestone's unit) is left out.
    public static func amount(_ v: Double, unit: String) -> String {
        if unit.isEmpty || unit == "done" { return number(v) }
        return unit == "%" ? number(v) + "%" : "\(number(v)) \(unit)"
    }

    /// An amount of money in whole euros: `€ 725.000`.
    public static func euros(_ v: Int) -> String { "€ " + number(Double(v), decimals: 0) }

    /// `1 januari 2023 t/m 31 december 2025`.
    public static func period(_ r: DateRange) -> String { "\(date(r.start)) t/m \(date(r.end))" }

    /// A changed plan field, as the council reads it.
    public static func word(_ f: Revision.Change.Field) -> String {
        switch f {
        case .start: "startdatum"
        case .due: "einddatum"
        case .baseline: "beginwaarde"
        case .target: "doel"
        }
    }

    /// Counts per state in words, most severe first, the states that occur:
    /// "2 achter, 1 onbekend, 5 gereed".
    public static func counts(_ c: [ItemState: Int]) -> String {
        ItemState.allCases.sorted { $0.severity > $1.severity }
            .compactMap { s in (c[s] ?? 0) > 0 ? "\(c[s]!) \(word(s))" : nil }.joined(separator: ", ")
    }

    /// "1 dag", "3 dagen".
    public static func days(_ n: Int) -> String { n == 1 ? "1 dag" : "\(n) dagen" }
}
