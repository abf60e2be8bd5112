/// The council report as a sequence of blocks, rendered to Markdown or to one
/// self-contained HTML page (inline CSS and SVG, printable on A4). The blocks hold only
/// text made from the plan, the store and the status model; the renderers add layout.
public enum Block: Sendable, Equatable {
    /// A heading of level 1…4, with an anchor id.
    case heading(Int, String, id: String? = nil)
    /// A paragraph; `label` is set in bold before the text.
    case paragraph(String, label: String? = nil)
    /// A bulleted list; each item may start with a bold label.
    case list([ListItem])
    /// A table with a header row.
    case table(header: [String], rows: [[String]])
    /// An SVG chart (drawn by `Charts`) and its description in words, which Markdown shows instead.
    case chart(svg: String, caption: String, description: String)
    /// A small note (source, method).
    case note(String)
}

public struct ListItem: Sendable, Equatable {
    public var label: String?
    public var text: String
    /// Sub-items (what is being done, earlier alerts).
    public var details: [String]
    public init(_ text: String, label: String? = nil, details: [String] = []) { self.label = label; self.text = text; self.details = details }
}

enum Render {
    // MARK: Markdown

    static func markdown(_ blocks: [Block]) -> String {
        var out: [String] = []
        for b in blocks {
            switch b {
            case .heading(let level, let text, _):
                out.append(String(repeating: "#", count: level) + " " + md(text))
            case .paragraph(let text, let label):
                out.append((label.map { "**\(md($0))** " } ?? "") + md(text))
            case .list(let items):
                out.append(items.map { i in
                    var line = "- " + (i.label.map { "**\(md($0))** " } ?? "") + md(i.text)
                    for d in i.details { line += "\n  - " + md(d) }
                    return line
                }.joined(separator: "\n"))
            case .table(let header, let rows):
                var t = "| " + header.map(cell).joined(separator: " | ") + " |\n"
                t += "|" + header.map { _ in " --- |" }.joined()
                for r in rows { t += "\n| " + r.map(cell).joined(separator: " | ") + " |" }
                out.append(t)
            case .chart(_, let caption, let description):
                out.append("*Grafiek: \(md(caption)) (in de HTML- en PDF-versie).* " + md(description))
            case .note(let text):
                out.append("*" + md(text) + "*")
            }
        }
        return out.joined(separator: "\n\n") + "\n"
    }

    /// Markdown's own characters in text taken from the plan or the store.
    static func md(_ s: String) -> String {
        var r = ""
        for c in s {
            if "\\`*_[]<#".contains(c) { r.append("\\") }
            r.append(c)
        }
        return r
    }

    static func cell(_ s: String) -> String { md(s).replacingOccurrences(of: "|", with: "\\|") }

    // MARK: HTML

    static func html(_ blocks: [Block], title: String) -> String {
        var body = ""
        for b in blocks {
            switch b {
            case .heading(let level, let text, let id):
                body += "<h\(level)\(id.map { " id=\"\(esc($0))\"" } ?? "")>\(esc(text))</h\(level)>\n"
            case .paragraph(let text, let label):
                body += "<p>" + (label.map { "<strong>\(esc($0))</strong> " } ?? "") + esc(text) + "</p>\n"
            case .list(let items):
                body += "<ul>\n" + items.map { i in
                    "<li>" + (i.label.map { "<strong>\(esc($0))</strong> " } ?? "") + esc(i.text)
                        + (i.details.isEmpty ? "" : "<ul>" + i.details.map { "<li>\(esc($0))</li>" }.joined() + "</ul>") + "</li>"
                }.joined(separator: "\n") + "\n</ul>\n"
            case .table(let header, let rows):
                body += "<table><thead><tr>" + header.map { "<th scope=\"col\">\(esc($0))</th>" }.joined() + "</tr></thead><tbody>\n"
                // A short cell (a state, a count) is not broken over lines: "▼ achter" stays together.
                for r in rows { body += "<tr>" + r.map { $0.count <= 16 ? "<td class=\"short\">\(esc($0))</td>" : "<td>\(esc($0))</td>" }.joined() + "</tr>\n" }
                body += "</tbody></table>\n"
            case .chart(let svg, let caption, _):
                body += "<figure class=\"chart\"><figcaption>\(esc(caption))</figcaption>\(svg)</figure>\n"
            case .note(let text):
                body += "<p class=\"note\">\(esc(text))</p>\n"
            }
        }
        return """
            <!DOCTYPE html>
            <html lang="nl">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(esc(title))</title>
            <style>
            \(css)
            </style>
            </head>
            <body>
            <main>
            \(body)</main>
            </body>
            </html>

            """
    }

    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A letter's page: serif text, A4 with margins, headings kept with what follows,
    /// tables and charts not split over pages.
    static let css = """
        @page { size: A4; margin: 20mm 18mm 20mm 20mm; }
        html { font-family: "DejaVu Serif", Georgia, "Times New Roman", serif; font-size: 10.5pt; line-height: 1.45; color: #111; }
        body { margin: 0; }
        main { max-width: 170mm; margin: 0 auto; padding: 8mm 0; }
        h1 { font-size: 18pt; margin: 0 0 2mm; }
        h2 { font-size: 14pt; margin: 8mm 0 2mm; border-bottom: 0.6pt solid #555; padding-bottom: 1mm; }
        h3 { font-size: 12pt; margin: 6mm 0 1.5mm; }
        h4 { font-size: 10.5pt; margin: 4mm 0 1mm; }
        h1, h2, h3, h4 { font-family: "DejaVu Sans", Arial, sans-serif; break-after: avoid; page-break-after: avoid; }
        p { margin: 0 0 2mm; }
        ul { margin: 0 0 2mm; padding-left: 5mm; }
        li { margin: 0 0 1mm; }
        li ul { margin-top: 1mm; font-size: 95%; }
        table { border-collapse: collapse; margin: 1mm 0 3mm; font-size: 9.5pt; break-inside: avoid; page-break-inside: avoid; }
        th, td { border: 0.5pt solid #888; padding: 1mm 2mm; text-align: left; vertical-align: top; }
        th { background: #eee; }
        td.short { white-space: nowrap; }
        figure.chart { margin: 2mm 0 4mm; break-inside: avoid; page-break-inside: avoid; }
        figure.chart svg { max-width: 100%; height: auto; }
        figcaption { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 9pt; font-weight: bold; margin: 0 0 1mm; }
        .note { font-size: 9pt; color: #444; font-style: italic; }
        @media print { main { padding: 0; } }
        """
}
