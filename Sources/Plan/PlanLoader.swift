import Foundation
import Yams
import BuiltInPlans

/// Reads a plan file (YAML, `docs/plan-format.md`) into a ``Plan``, reporting every
/// problem with its line, column, item path and fix.
public enum PlanLoader {
    /// Loads and validates a plan file.
    ///
    /// - Throws: ``PlanError`` with every problem found.
    public static func load(path: String) throws(PlanError) -> Plan {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw PlanError(diagnostics: [PlanDiagnostic(
                file: path, line: 1, column: 1, path: "", message: "cannot read the plan file: \(error.localizedDescription)",
                fix: "check the path; `koers plan check` without a file checks the built-in plan")])
        }
        return try load(yaml: text, file: path)
    }

    /// Loads and validates plan text; `file` names it in diagnostics.
    public static func load(yaml: String, file: String) throws(PlanError) -> Plan {
        let node: Node
        do {
            // The basic resolver: every scalar stays a string and the reader parses it
            // (numbers, dates, booleans). Yams's default resolver matches each scalar
            // against regular expressions, which was 60 % of loading a large plan.
            guard let n = try Yams.compose(yaml: yaml, .basic) else {
                throw PlanError(diagnostics: [PlanDiagnostic(file: file, line: 1, column: 1, path: "", message: "the plan file is empty",
                                                             fix: "start from plans/nphln.yaml or the example in docs/plan-format.md")])
            }
            node = n
        } catch let e as PlanError {
            throw e
        } catch {
            throw PlanError(diagnostics: [syntaxDiagnostic(error, file: file)])
        }
        let reader = PlanReader(file: file)
        let plan = reader.readPlan(node)
        if let plan {
            PlanValidator(plan: plan, locations: reader.locations, file: file).validate(into: &reader.diagnostics)
        }
        guard reader.diagnostics.isEmpty, let plan else { throw PlanError(diagnostics: reader.diagnostics) }
        return plan
    }

    static func syntaxDiagnostic(_ error: Error, file: String) -> PlanDiagnostic {
        if let y = error as? YamlError {
            switch y {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
                 .composer(let context, let problem, let mark, _):
                let ctx = context.map { " \($0.text)" } ?? ""
                return PlanDiagnostic(file: file, line: mark.line, column: mark.column, path: "",
                                      message: "YAML syntax: \(problem)\(ctx)", fix: "correct the YAML at this place (indentation, quotes, a missing colon)")
            case .duplicatedKeysInMapping(let duplicates, let context):
                let keys = duplicates.map { "`\($0)`" }.joined(separator: ", ")
                return PlanDiagnostic(file: file, line: context.mark.line, column: context.mark.column, path: "",
                                      message: "the mapping that starts here has \(keys) more than once",
                                      fix: "keep one of each; YAML stops reading at a duplicated key, so fix this first and check again")
            default: break
            }
        }
        return PlanDiagnostic(file: file, line: 1, column: 1, path: "", message: "YAML syntax: \(error)")
    }
}

/// Where each item and field was written, for diagnostics found after reading.
struct Locations {
    var marks: [String: (line: Int, column: Int, path: String)] = [:]
    subscript(key: String) -> (line: Int, column: Int, path: String)? { marks[key] }
}

/// Walks the YAML tree, building the model and collecting diagnostics.
final class PlanReader {
    let file: String
    var diagnostics: [PlanDiagnostic] = []
    var locations = Locations()

    init(file: String) { self.file = file }

    // MARK: - Reporting

    func report(_ node: Node?, _ path: String, _ message: String, fix: String? = nil) {
        let mark = node?.mark
        diagnostics.append(PlanDiagnostic(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1,
                                          path: path, message: message, fix: fix))
    }

    func remember(_ key: String, _ node: Node?, _ path: String) {
        guard let m = node?.mark else { return }
        locations.marks[key] = (m.line, m.column, path)
    }

    // MARK: - Mappings

    /// A mapping with its keys checked against those allowed.
    struct Map {
        let node: Node
        let path: String
        var values: [String: Node]
        var keyNodes: [String: Node]
    }

    func map(_ node: Node, _ path: String, required: [String], optional: [String] = []) -> Map? {
        guard let mapping = node.mapping else {
            report(node, path, "expected a mapping (key: value lines), found \(kind(node))")
            return nil
        }
        var m = Map(node: node, path: path, values: [:], keyNodes: [:])
        let allowed = Set(required + optional)
        for (k, v) in mapping {
            guard let key = k.scalar?.string else {
                report(k, path, "a key must be plain text")
                continue
            }
            if m.values[key] != nil {
                report(k, path, "`\(key)` appears twice", fix: "keep one `\(key)`")
                continue
            }
            guard allowed.contains(key) else {
                let suggestion = closest(key, among: allowed)
                report(k, path, "unknown key `\(key)`",
                       fix: suggestion.map { "did you mean `\($0)`?" } ?? "allowed here: \(allowed.sorted().joined(separator: ", "))")
                continue
            }
            m.values[key] = v
            m.keyNodes[key] = k
        }
        for key in required where m.values[key] == nil {
            report(node, path, "missing `\(key)`", fix: "add `\(key): …` to this item")
        }
        return m
    }

    func kind(_ node: Node) -> String {
        switch node {
        case .scalar(let s): "the value `\(s.string)`"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    // MARK: - Scalars

    func string(_ m: Map, _ key: String) -> String? {
        guard let v = m.values[key] else { return nil }
        guard let s = v.scalar?.string, !s.isEmpty else {
            report(v, "\(m.path).\(key)", "expected text, found \(kind(v))")
            return nil
        }
        return s
    }

    func number(_ m: Map, _ key: String) -> Double? {
        guard let v = m.values[key] else { return nil }
        guard let s = v.scalar?.string, let d = Double(s.replacingOccurrences(of: "_", with: "")), d.isFinite else {
            report(v, "\(m.path).\(key)", "expected a number, found \(kind(v))", fix: "write a plain number such as 140 or 12.5")
            return nil
        }
        return d
    }

    func int(_ m: Map, _ key: String) -> Int? {
        guard let v = m.values[key] else { return nil }
        guard let s = v.scalar?.string, let i = Int(s.replacingOccurrences(of: "_", with: "")) else {
            report(v, "\(m.path).\(key)", "expected a whole number, found \(kind(v))")
            return nil
        }
        return i
    }

    func bool(_ m: Map, _ key: String) -> Bool? {
        guard let v = m.values[key] else { return nil }
        switch v.scalar?.string {
        case "true": return true
        case "false": return false
        default:
            report(v, "\(m.path).\(key)", "expected true or false, found \(kind(v))")
            return nil
        }
    }

    func date(_ m: Map, _ key: String) -> PlanDate? {
        guard let v = m.values[key] else { return nil }
        guard let s = v.scalar?.string, let d = PlanDate(iso: s) else {
            report(v, "\(m.path).\(key)", "cannot read \(kind(v)) as a date", fix: "write dates as YYYY-MM-DD, e.g. 2023-04-01")
            return nil
        }
        return d
    }

    func cadence(_ m: Map, _ key: String) -> Cadence? {
        guard let v = m.values[key] else { return nil }
        guard let s = v.scalar?.string, let c = Cadence(iso: s) else {
            if let s = v.scalar?.string, Cadence.isTooLong(iso: s) {
                report(v, "\(m.path).\(key)", "cadence `\(s)` is longer than a hundred years",
                       fix: "a cadence is at most P100Y (P1200M, P5218W, P36525D): how often is this reported?")
            } else {
                report(v, "\(m.path).\(key)", "cannot read \(kind(v)) as a cadence",
                       fix: "write an ISO 8601 duration of days, weeks, months or years: P1D, P2W, P1M, P3M, P1Y")
            }
            return nil
        }
        return c
    }

    func choice<T: RawRepresentable & CaseIterableByName>(_ m: Map, _ key: String, _ type: T.Type) -> T? where T.RawValue == String {
        guard let v = m.values[key] else { return nil }
        guard let s = v.scalar?.string, let t = T(rawValue: s) else {
            report(v, "\(m.path).\(key)", "\(kind(v)) is not one of \(T.allNames.joined(separator: ", "))",
                   fix: "use one of \(T.allNames.joined(separator: ", "))")
            return nil
        }
        return t
    }

    func strings(_ m: Map, _ key: String) -> [String] {
        guard let v = m.values[key] else { return [] }
        guard let seq = v.sequence else {
            report(v, "\(m.path).\(key)", "expected a list such as [a, b], found \(kind(v))")
            return []
        }
        var out: [String] = []
        for (i, item) in seq.enumerated() {
            guard let s = item.scalar?.string, !s.isEmpty else {
                report(item, "\(m.path).\(key)[\(i)]", "expected an id, found \(kind(item))")
                continue
            }
            out.append(s)
        }
        return out
    }

    func list(_ m: Map, _ key: String) -> [Node] {
        guard let v = m.values[key] else { return [] }
        guard let seq = v.sequence else {
            report(v, "\(m.path).\(key)", "expected a list of items (lines starting with `- `), found \(kind(v))")
            return []
        }
        return Array(seq)
    }

    /// The id of a list item, for its path: `milestones[saffierflat-oplevering]`.
    func itemPath(_ parent: String, _ key: String, _ node: Node, _ index: Int) -> String {
        let id = node.mapping?["id"]?.scalar?.string
        return "\(parent.isEmpty ? "" : parent + ".")\(key)[\(id ?? String(index))]"
    }

    // MARK: - The plan

    func readPlan(_ root: Node) -> Plan? {
        guard let m = map(root, "", required: ["koers-plan", "programme", "leefgebieden", "areas", "organisations", "themes"],
                          optional: ["funding", "revisions"]) else { return nil }
        let format = int(m, "koers-plan")
        if let format, format != 1 {
            report(m.values["koers-plan"], "koers-plan", "unsupported plan format \(format)", fix: "this Koers reads `koers-plan: 1`")
        }
        let programme = m.values["programme"].flatMap(readProgramme)
        let leefgebieden = list(m, "leefgebieden").enumerated().compactMap { i, n -> Leefgebied? in
            let p = itemPath("", "leefgebieden", n, i)
            guard let lm = map(n, p, required: ["id", "name"]), let id = string(lm, "id"), let name = string(lm, "name") else { return nil }
            remember("leefgebied:\(id)", n, p)
            return Leefgebied(id: id, name: name)
        }
        let areas = list(m, "areas").enumerated().compactMap { i, n -> Area? in
            let p = itemPath("", "areas", n, i)
            guard let am = map(n, p, required: ["id", "name"], optional: ["priority"]),
                  let id = string(am, "id"), let name = string(am, "name") else { return nil }
            remember("area:\(id)", n, p)
            return Area(id: id, name: name, priority: bool(am, "priority") ?? false)
        }
        let organisations = list(m, "organisations").enumerated().compactMap { i, n -> Organisation? in
            let p = itemPath("", "organisations", n, i)
            guard let om = map(n, p, required: ["id", "name"]), let id = string(om, "id"), let name = string(om, "name") else { return nil }
            remember("organisation:\(id)", n, p)
            return Organisation(id: id, name: name)
        }
        let funding = list(m, "funding").enumerated().compactMap { i, n in readFunding(n, itemPath("", "funding", n, i)) }
        let themes = list(m, "themes").enumerated().compactMap { i, n in readTheme(n, itemPath("", "themes", n, i)) }
        let revisions = list(m, "revisions").enumerated().compactMap { i, n in readRevision(n, "revisions[\(i)]") }
        guard let format, let programme else { return nil }
        return Plan(format: format, programme: programme, version: (revisions.map(\.version).max() ?? 1),
                    revisions: revisions, leefgebieden: leefgebieden, areas: areas, organisations: organisations,
                    funding: funding, themes: themes)
    }

    func readProgramme(_ n: Node) -> Programme? {
        guard let m = map(n, "programme", required: ["id", "name", "ambition", "horizon"]) else { return nil }
        let horizon = m.values["horizon"].flatMap { readRange($0, "programme.horizon") }
        guard let id = string(m, "id"), let name = string(m, "name"), let ambition = string(m, "ambition"), let horizon else { return nil }
        remember("programme.horizon", m.values["horizon"], "programme.horizon")
        return Programme(id: id, name: name, ambition: ambition, horizon: horizon)
    }

    func readRange(_ n: Node, _ path: String) -> DateRange? {
        guard let m = map(n, path, required: ["start", "end"]) else { return nil }
        guard let s = date(m, "start"), let e = date(m, "end") else { return nil }
        if e < s {
            report(m.values["end"], "\(path).end", "ends \(e), before it starts \(s)", fix: "swap the dates or correct one of them")
            return nil
        }
        return DateRange(start: s, end: e)
    }

    func readFunding(_ n: Node, _ path: String) -> FundingLine? {
        guard let m = map(n, path, required: ["id", "name", "source", "period"],
                          optional: ["amount-eur", "per", "secured-until", "note"]) else { return nil }
        let period = m.values["period"].flatMap { readRange($0, "\(path).period") }
        let amount = int(m, "amount-eur")
        if let amount, amount < 0 { report(m.values["amount-eur"], "\(path).amount-eur", "an amount cannot be negative") }
        let per = m.values["per"] == nil ? .once : choice(m, "per", FundingLine.Recurrence.self)
        let secured = date(m, "secured-until")
        guard let id = string(m, "id"), let name = string(m, "name"), let source = string(m, "source"), let period, let per else { return nil }
        remember("funding:\(id)", n, path)
        remember("funding:\(id).secured-until", m.values["secured-until"], "\(path).secured-until")
        return FundingLine(id: id, name: name, source: source, amountEUR: amount, per: per, period: period,
                           securedUntil: secured, note: m.values["note"] == nil ? nil : string(m, "note"))
    }

    func readTheme(_ n: Node, _ path: String) -> Theme? {
        guard let m = map(n, path, required: ["id", "name", "leefgebieden", "heartbeat", "goals"]) else { return nil }
        let leef = strings(m, "leefgebieden")
        let hb = cadence(m, "heartbeat")
        let goals = list(m, "goals").enumerated().compactMap { i, g in readGoal(g, itemPath(path, "goals", g, i)) }
        guard let id = string(m, "id"), let name = string(m, "name"), let hb else { return nil }
        remember("theme:\(id)", n, path)
        remember("theme:\(id).leefgebieden", m.values["leefgebieden"], "\(path).leefgebieden")
        return Theme(id: id, name: name, leefgebieden: leef, heartbeat: hb, goals: goals)
    }

    func readGoal(_ n: Node, _ path: String) -> Goal? {
        guard let m = map(n, path, required: ["id", "name"], optional: ["interventions", "indicators"]) else { return nil }
        let interventions = list(m, "interventions").enumerated().compactMap { i, x in readIntervention(x, itemPath(path, "interventions", x, i)) }
        let indicators = list(m, "indicators").enumerated().compactMap { i, x in readIndicator(x, itemPath(path, "indicators", x, i)) }
        guard let id = string(m, "id"), let name = string(m, "name") else { return nil }
        remember("goal:\(id)", n, path)
        return Goal(id: id, name: name, interventions: interventions, indicators: indicators)
    }

    func readIntervention(_ n: Node, _ path: String) -> Intervention? {
        guard let m = map(n, path, required: ["id", "name", "owner", "milestones"],
                          optional: ["description", "partners", "areas", "funding"]) else { return nil }
        let milestones = list(m, "milestones").enumerated().compactMap { i, x in readMilestone(x, itemPath(path, "milestones", x, i)) }
        guard let id = string(m, "id"), let name = string(m, "name"), let owner = string(m, "owner") else { return nil }
        remember("intervention:\(id)", n, path)
        for key in ["owner", "partners", "areas", "funding"] { remember("intervention:\(id).\(key)", m.values[key], "\(path).\(key)") }
        return Intervention(id: id, name: name, description: m.values["description"] == nil ? nil : string(m, "description"),
                            owner: owner, partners: strings(m, "partners"), areas: strings(m, "areas"),
                            funding: strings(m, "funding"), milestones: milestones)
    }

    func readMilestone(_ n: Node, _ path: String) -> Milestone? {
        guard let m = map(n, path, required: ["id", "name", "kind", "start", "due", "cadence"],
                          optional: ["baseline", "target", "unit", "checkpoints", "depends-on", "areas", "secures", "note"]) else { return nil }
        let kind = choice(m, "kind", Milestone.Kind.self)
        let start = date(m, "start"), due = date(m, "due"), cadence = cadence(m, "cadence")
        var baseline = number(m, "baseline"), target = number(m, "target")
        var unit = m.values["unit"] == nil ? nil : string(m, "unit")
        if kind == .quantitative {
            for key in ["baseline", "target", "unit"] where m.values[key] == nil {
                report(n, path, "a quantitative milestone needs `\(key)`", fix: "add `\(key): …`, or make it `kind: binary`")
            }
        } else if kind == .binary {
            for key in ["baseline", "target", "unit"] where m.values[key] != nil {
                report(m.keyNodes[key], "\(path).\(key)", "a binary milestone has no `\(key)`: it is done or not",
                       fix: "remove `\(key)`, or make it `kind: quantitative`")
            }
            baseline = 0; target = 1; unit = "done"
        }
        var checkpoints: [Checkpoint] = []
        for (i, c) in list(m, "checkpoints").enumerated() {
            let cp = "\(path).checkpoints[\(i)]"
            guard let cm = map(c, cp, required: ["date", "value"]), let d = date(cm, "date"), let v = number(cm, "value") else { continue }
            remember("milestone-checkpoint:\(m.values["id"]?.scalar?.string ?? ""):\(i)", c, cp)
            checkpoints.append(Checkpoint(date: d, value: v))
        }
        guard let id = string(m, "id"), let name = string(m, "name"), let kind, let start, let due, let cadence,
              let baseline, let target, let unit else { return nil }
        remember("milestone:\(id)", n, path)
        for key in ["due", "target", "depends-on", "areas", "secures", "start", "baseline"] {
            remember("milestone:\(id).\(key)", m.values[key], "\(path).\(key)")
        }
        return Milestone(id: id, name: name, kind: kind, baseline: baseline, target: target, unit: unit, start: start, due: due,
                         checkpoints: checkpoints, cadence: cadence, dependsOn: strings(m, "depends-on"), areas: strings(m, "areas"),
                         secures: m.values["secures"] == nil ? nil : string(m, "secures"),
                         note: m.values["note"] == nil ? nil : string(m, "note"))
    }

    func readIndicator(_ n: Node, _ path: String) -> Indicator? {
        guard let m = map(n, path, required: ["id", "name", "unit", "direction", "baseline", "target", "cadence", "source"],
                          optional: ["references"]) else { return nil }
        let direction = choice(m, "direction", Indicator.Direction.self)
        let cadence = cadence(m, "cadence")
        var baseline: (Double, Int)?
        if let b = m.values["baseline"], let bm = map(b, "\(path).baseline", required: ["value", "year"]),
           let v = number(bm, "value"), let y = int(bm, "year") {
            baseline = (v, y)
        }
        var target: (Double, Int, Indicator.TargetBasis)?
        if let t = m.values["target"], let tm = map(t, "\(path).target", required: ["value", "year", "basis"]),
           let v = number(tm, "value"), let y = int(tm, "year"), let basis = choice(tm, "basis", Indicator.TargetBasis.self) {
            target = (v, y, basis)
            remember("indicator-target:\(m.values["id"]?.scalar?.string ?? "")", tm.values["value"], "\(path).target.value")
        }
        var references: [String: Double] = [:]
        if let r = m.values["references"], let rm = map(r, "\(path).references", required: [], optional: ["nederland", "heerlen", "heerlen-noord"]) {
            for key in ["nederland", "heerlen", "heerlen-noord"] { if let v = number(rm, key) { references[key] = v } }
        }
        var source: String?, url: String?
        if let s = m.values["source"], let sm = map(s, "\(path).source", required: ["name"], optional: ["url"]) {
            source = string(sm, "name")
            url = sm.values["url"] == nil ? nil : string(sm, "url")
        }
        guard let id = string(m, "id"), let name = string(m, "name"), let unit = string(m, "unit"), let direction, let cadence,
              let baseline, let target, let source else { return nil }
        remember("indicator:\(id)", n, path)
        return Indicator(id: id, name: name, unit: unit, direction: direction, baseline: baseline.0, baselineYear: baseline.1,
                         references: references, target: target.0, targetYear: target.1, targetBasis: target.2,
                         cadence: cadence, source: source, sourceURL: url)
    }

    func readRevision(_ n: Node, _ path: String) -> Revision? {
        guard let m = map(n, path, required: ["version", "date", "reason", "changes"]) else { return nil }
        let version = int(m, "version"), date = date(m, "date"), reason = string(m, "reason")
        var changes: [Revision.Change] = []
        for (i, c) in list(m, "changes").enumerated() {
            let cp = "\(path).changes[\(i)]"
            guard let cm = map(c, cp, required: ["item", "field", "from", "to"]),
                  let item = string(cm, "item"), let field = choice(cm, "field", Revision.Change.Field.self),
                  let from = string(cm, "from"), let to = string(cm, "to") else { continue }
            remember("revision:\(version ?? -1):\(i)", c, cp)
            changes.append(Revision.Change(item: item, field: field, from: from, to: to))
        }
        guard let version, let date, let reason else { return nil }
        remember("revision:\(version)", n, path)
        return Revision(version: version, date: date, reason: reason, changes: changes)
    }
}

/// Enumerations named in plan files list their spellings in diagnostics.
protocol CaseIterableByName {
    static var allNames: [String] { get }
}

extension CaseIterableByName where Self: CaseIterable & RawRepresentable, RawValue == String {
    static var allNames: [String] { allCases.map(\.rawValue) }
}

extension Milestone.Kind: CaseIterableByName {}
extension Indicator.Direction: CaseIterableByName {}
extension Indicator.TargetBasis: CaseIterableByName {}
extension FundingLine.Recurrence: CaseIterableByName {}
extension Revision.Change.Field: CaseIterableByName {}

/// The allowed key nearest to a misspelt one, if it is near enough to be a typo.
public func closest(_ word: String, among options: Set<String>) -> String? {
    let best = options.map { ($0, editDistance(word, $0)) }.min { ($0.1, $0.0) < ($1.1, $1.0) }
    guard let best, best.1 <= max(2, word.count / 3) else { return nil }
    return best.0
}

extension PlanLoader {
    /// Loads the plan at `path`, or the built-in NPHLN plan when `path` is nil.
    public static func loadDefault(path: String?) throws(PlanError) -> Plan {
        if let path { return try load(path: path) }
        let builtIn = try source(path: nil).file
        let text: String
        do { text = try String(contentsOfFile: builtIn, encoding: .utf8) } catch {
            throw PlanError(diagnostics: [PlanDiagnostic(file: builtIn, line: 1, column: 1, path: "",
                                                         message: "cannot read the built-in plan: \(error.localizedDescription)")])
        }
        return try load(yaml: text, file: builtInLabel)
    }

    /// How diagnostics name the built-in plan.
    static let builtInLabel = "plans/nphln.yaml (built-in)"

    /// The file to read for `path` (the built-in plan's when nil) and how diagnostics name it.
    static func source(path: String?) throws(PlanError) -> (file: String, label: String) {
        if let path { return (path, path) }
        guard let builtIn = BuiltInPlans.nphlnPath else {
            throw PlanError(diagnostics: [PlanDiagnostic(file: "<built-in>", line: 1, column: 1, path: "",
                                                         message: "the built-in plan is missing from this Koers build",
                                                         fix: "pass a plan file, or rebuild Koers")])
        }
        return (builtIn, builtInLabel)
    }
}
