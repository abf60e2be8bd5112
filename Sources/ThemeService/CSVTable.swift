import Foundation
/// A CSV file (RFC 4180: comma-separated, double quotes around fields holding commas,
/// quotes or line breaks, `""` for a quote), read into a header and rows that remember
/// their line numbers for error messages.
///
/// Hand-written rather than a dependency: forty lines, and every error must name its row.
public struct CSVTable: Sendable {
    /// The header, trimmed and lower-cased.
    public var header: [String]
    /// Each data row with its 1-based line number in the file.
    public var rows: [(line: Int, fields: [String])]
    /// The rows that could not be read (a different number of fields than the header),
    /// each naming its line. They are not in ``rows``; an import lists them with every
    /// other bad row rather than stopping at the first.
    public var problems: [ReportError]

    /// Parses CSV text.
    ///
    /// Empty text is an empty table (no header, no rows): the caller knows whether that
    /// is a missing file or an empty one. A row with the wrong number of fields goes to
    /// ``problems``, so that every bad row can be named.
    ///
    /// - Throws: ``ReportError`` naming the line of an unterminated quote (the rest of the
    ///   file is then one field, so no row after it can be read).
    public init(text: String) throws(ReportError) {
        var records: [(Int, [String])] = []
        var field = "", record: [String] = [], inQuotes = false, line = 1, recordLine = 1
        var chars = Array(text.unicodeScalars)[...]
        if chars.first == "\u{FEFF}" { chars = chars.dropFirst() }  // a BOM from spreadsheet exports
        var i = chars.startIndex
        while i < chars.endIndex {
            let c = chars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < chars.endIndex && chars[i + 1] == "\"" { field.unicodeScalars.append("\""); i += 1 } else { inQuotes = false }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" && field.isEmpty {
                inQuotes = true
            } else if c == "," {
                record.append(field); field = ""
            } else if c == "\n" || c == "\r" {
                if c == "\r" && i + 1 < chars.endIndex && chars[i + 1] == "\n" { i += 1 }
                record.append(field); field = ""
                if !(record.count == 1 && record[0].isEmpty) { records.append((recordLine, record)) }
                record = []
                line += 1
                recordLine = line
            } else {
                field.unicodeScalars.append(c)
            }
            i += 1
        }
        if inQuotes { throw ReportError(message: "a quoted field opened on line \(recordLine) is never closed", row: recordLine) }
        if !field.isEmpty || !record.isEmpty { record.append(field); records.append((recordLine, record)) }
        header = records.first?.1.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? []
        rows = []
        problems = []
        for (n, fields) in records.dropFirst() {
            guard fields.count == header.count else {
                problems.append(ReportError(message: "has \(fields.count) field\(fields.count == 1 ? "" : "s"); the header has \(header.count)", row: n))
                continue
            }
            rows.append((n, fields.map { $0.trimmingCharacters(in: .whitespaces) }))
        }
    }

    /// Whether the text held nothing at all, not even a header.
    public var isEmpty: Bool { header.isEmpty }

    /// The value of a column in a row, or nil when the column is absent or the cell empty.
    public func value(_ column: String, in row: [String]) -> String? {
        guard let i = header.firstIndex(of: column), !row[i].isEmpty else { return nil }
        return row[i]
    }
}


