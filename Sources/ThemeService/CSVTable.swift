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

    /// Parses CSV text.
    ///
    /// - Throws: ``ReportError`` naming the line of an unterminated quote or a row with
    ///   the wrong number of fields.
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
        guard let first = records.first else { throw ReportError(message: "the file is empty; the first line must be a header", row: 1) }
        header = first.1.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        rows = []
        for (n, fields) in records.dropFirst() {
            guard fields.count == header.count else {
                throw ReportError(message: "has \(fields.count) fields; the header has \(header.count)", row: n)
            }
            rows.append((n, fields.map { $0.trimmingCharacters(in: .whitespaces) }))
        }
    }

    /// The value of a column in a row, or nil when the column is absent or the cell empty.
    public func value(_ column: String, in row: [String]) -> String? {
        guard let i = header.firstIndex(of: column), !row[i].isEmpty else { return nil }
        return row[i]
    }
}


