import Plan

/// The small grammar of the letter: lists, counts with their noun, cadences. Only
/// words: every figure put into them comes from the plan, the store or the status model.
enum Prose {
    /// "a", "a en b", "a, b en c".
    static func list(_ items: [String]) -> String {
        switch items.count {
        case 0: return ""
        case 1: return items[0]
        default: return items.dropLast().joined(separator: ", ") + " en " + items.last!
        }
    }

    /// "1 mijlpaal", "3 mijlpalen", "geen mijlpalen".
    static func count(_ n: Int, _ one: String, _ many: String) -> String {
        n == 0 ? "geen \(many)" : n == 1 ? "1 \(one)" : "\(n) \(many)"
    }

    /// “name”.
    static func quoted(_ s: String) -> String { "“\(s)”" }

    /// How often a cadence asks for a report: "elke maand", "elke 3 maanden", "elk jaar".
    static func cadence(_ c: Cadence) -> String {
        let (one, many, article): (String, String, String) = switch c.unit {
        case .day: ("dag", "dagen", "elke")
        case .week: ("week", "weken", "elke")
        case .month: ("maand", "maanden", "elke")
        case .year: ("jaar", "jaar", "elk")
        }
        return c.count == 1 ? "\(article) \(one)" : "elke \(c.count) \(many)"
    }
}
