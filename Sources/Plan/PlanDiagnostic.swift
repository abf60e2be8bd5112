/// One problem in a plan file: where it is, what it is and how to fix it.
public struct PlanDiagnostic: Sendable, Hashable, CustomStringConvertible {
    /// The file, as given to the loader.
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int
    /// The item's path in the plan, e.g. `themes[talent].goals[kansen].interventions[rijke-schooldagen].milestones[rsd-start].due`.
    public var path: String
    /// What is wrong.
    public var message: String
    /// What to do about it.
    public var fix: String?

    public init(file: String, line: Int, column: Int, path: String, message: String, fix: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
        self.fix = fix
    }

    public var description: String {
        var s = "\(file):\(line):\(column): \(path): \(message)"
        if let fix { s += "\n    fix: \(fix)" }
        return s
    }
}

/// A plan that could not be loaded, with every problem found (not just the first).
public struct PlanError: Error, Sendable, CustomStringConvertible {
    /// Every problem, in file order.
    public var diagnostics: [PlanDiagnostic]

    public init(diagnostics: [PlanDiagnostic]) {
        self.diagnostics = diagnostics.sorted { ($0.line, $0.column, $0.message) < ($1.line, $1.column, $1.message) }
    }

    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
            + "\n\(diagnostics.count) problem\(diagnostics.count == 1 ? "" : "s") found"
    }
}
