import StreamProtocol
import Plan
import Status

/// Renders a snapshot as the status tree operators read: programme → themes →
/// interventions → milestones, and indicators, each with a progress bar, its state
/// (in colour on a terminal) and why.
public struct StatusRenderer: Sendable {
    public var colour: Bool
    public var width = 20

    public init(colour: Bool) { self.colour = colour }

    public func render(_ whole: StreamDocuments.Snapshot, plan: Plan, theme: String? = nil, area: String? = nil) -> String {
        let snap = whole.narrowed(plan: plan, theme: theme, area: area)
        let items = Dictionary(uniqueKeysWithValues: snap.items.map { ($0.item, $0) })
        let rollups = Dictionary(uniqueKeysWithValues: snap.rollups.map { ($0.node, $0) })
        var lines: [String] = []
        let programme = rollups["programme"]
        lines.append("\(bold(plan.programme.name)) — \(snap.date), plan v\(snap.planVersion), stream #\(snap.sequence)")
        if let p = programme { lines.append("  \(badge(p.state)) \(counts(p.counts))") }
        if let area {
            let a = rollups["area:\(area)"]
            let scope = theme.map { " in theme \($0)" } ?? ""
            lines.append("  area \(area)\(scope): \(a.map { "\(badge($0.state)) \(counts($0.counts))" } ?? "no items")")
        }
        let shown = Set(snap.items.map(\.item))
        for t in plan.themes where theme == nil || t.id == theme {
            // Narrowed to an area: only the themes with items in it.
            if area != nil && !t.goals.contains(where: { $0.interventions.contains { $0.milestones.contains { shown.contains($0.id) } } }) { continue }
            let r = rollups["theme:\(t.id)"]
            let silent = snap.silentThemes.contains(t.id) ? "  " + paint("SILENT", 31) : ""
            lines.append("")
            lines.append("\(bold(t.name)) [\(t.id)] \(r.map { badge($0.state) } ?? "")\(silent)")
            for g in t.goals {
                for i in g.interventions {
                    let ms = i.milestones.filter { area == nil || shown.contains($0.id) }
                    guard !ms.isEmpty else { continue }
                    let ir = rollups["intervention:\(i.id)"]
                    lines.append("  \(i.name) \(ir.map { badge($0.state) } ?? "")")
                    for m in ms {
                        let s = items[m.id]
                        lines.append("    \(bar(s?.progress)) \(pad(badge(s?.state), 13)) \(m.id)")
                        if let why = s?.evidence.summary, !why.isEmpty { lines.append("        \(dim(why))") }
                    }
                }
                if area == nil {
                    for x in g.indicators {
                        let s = items[x.id]
                        lines.append("  ◆ \(x.name) \(badge(s?.state))")
                        if let why = s?.evidence.summary { lines.append("        \(dim(why))") }
                    }
                }
            }
        }
        lines.append("")
        lines.append(bold("Open alerts (\(snap.alerts.count))"))
        let silent = Set(snap.silentThemes)
        for a in snap.alerts.sorted(by: { ($0.severity, $0.key) > ($1.severity, $1.key) }) {
            lines.append("  " + alertLine(a, silentThemes: silent))
        }
        return lines.joined(separator: "\n")
    }

    /// An alert in text: severity, state, key and why (for a resolved one, what resolved
    /// it); then its owner, its areas and what to do (``Runbook``). An item alert of a
    /// silent theme is marked held: it neither resolves nor fires until the theme is heard.
    public func alertLine(_ a: Alert, silentThemes: Set<String> = []) -> String {
        let sev = paint(a.severity.rawValue.uppercased(), a.severity == .critical ? 31 : a.severity == .warning ? 33 : 36)
        let ack = a.acknowledgement.map { " (ack by \($0.by): \($0.reason)\($0.until.map { " until \($0)" } ?? ""))" } ?? ""
        let isItemAlert = Runbook.rule(a.rule)?.subject == "ID"
        let held = isItemAlert && a.theme.map(silentThemes.contains) == true ? " [held: theme `\(a.theme!)` is silent]" : ""
        let why = a.state == .resolved ? "resolved by: " + (a.resolvedBy.map { "\($0.summary) (on \($0.on))" } ?? a.evidence.summary) : a.evidence.summary
        let owner = a.owner ?? (a.rule == "theme-silent" ? "the \(a.subject) theme team" : "-")
        let areas = a.areas.isEmpty ? "-" : a.areas.joined(separator: ", ")
        return "\(sev) \(a.state.rawValue) \(a.key)\(ack)\(held) — \(why)\n"
            + "      owner: \(owner) · area: \(areas) · do: \(Runbook.action(for: a.rule))"
    }

    func counts(_ c: [String: Int]) -> String {
        ItemState.allCases.sorted(by: >).compactMap { s in c[s.rawValue].map { "\($0) \(s.rawValue)" } }.joined(separator: ", ")
    }

    func bar(_ progress: Double?) -> String {
        guard let p = progress else { return "[" + String(repeating: "·", count: width) + "]     " }
        let clamped = max(0, min(1, p))
        let filled = Int((clamped * Double(width)).rounded())
        let percent = "\(Int((p * 100).rounded()))%"
        return "[" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "] " + pad(percent, 4)
    }

    func badge(_ s: ItemState?) -> String {
        guard let s else { return paint("unknown", 35) }
        let code: Int
        switch s {
        case .done: code = 32
        case .onTrack: code = 32
        case .notStarted: code = 37
        case .atRisk: code = 33
        case .lagging: code = 31
        case .overdue: code = 31
        case .unknown: code = 35
        }
        return paint(s.rawValue, code)
    }

    func paint(_ text: String, _ code: Int) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    func bold(_ text: String) -> String { colour ? "\u{1B}[1m\(text)\u{1B}[0m" : text }
    func dim(_ text: String) -> String { colour ? "\u{1B}[2m\(text)\u{1B}[0m" : text }

    func pad(_ s: String, _ n: Int) -> String {
        let visible = s.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression).count
        return visible >= n ? s : s + String(repeating: " ", count: n - visible)
    }
}

import Foundation
