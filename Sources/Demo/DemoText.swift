import Foundation

/// How the demo's lines read: lines that fit the terminal,
/// broken between words, never inside one.
public enum DemoText {
    /// A number as a person writes it: `12`, `58.4`.
    public static func number(_ x: Double) -> String {
        let one = String(format: "%.1f", x)
        return one.hasSuffix(".0") ? String(one.dropLast(2)) : one
    }

    /// Seconds, rounded: `66 s`.
    public static func seconds(_ x: Double) -> String { "\(Int(x.rounded())) s" }

    /// The length a terminal shows (colour codes take no room).
    static func visibleCount(_ s: Substring) -> Int {
        s.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression).count
    }

    /// Each line of `text` broken between words to fit `width` columns; a continuation
    /// is indented under the text after the line's date, or four more than the line's
    /// own indent. A word longer than the width keeps its own line, unbroken.
    public static func wrap(_ text: String, width: Int?) -> String {
        guard let width, width >= 20 else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard visibleCount(line) > width else { return String(line) }
            let lead = line.prefix { $0 == " " }.count
            let plain = line.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
            let dated = plain.range(of: "^[0-9]{4}-[0-9]{2}-[0-9]{2}  ", options: .regularExpression) != nil
            let hang = String(repeating: " ", count: min(dated ? 12 : lead + 4, width / 2))
            var out: [String] = [], current = String(repeating: " ", count: lead), currentWidth = lead
            var startOfLine = true
            for word in line.dropFirst(lead).split(separator: " ", omittingEmptySubsequences: false) {
                let w = visibleCount(word)
                if !startOfLine && currentWidth + 1 + w > width {
                    out.append(current)
                    current = hang + word
                    currentWidth = hang.count + w
                } else {
                    current += (startOfLine ? "" : " ") + word
                    currentWidth += (startOfLine ? 0 : 1) + w
                }
                startOfLine = false
            }
            out.append(current)
            return out.joined(separator: "\n")
        }.joined(separator: "\n")
    }
}
