import Aggregator
import ArgumentParser
import Foundation
import Logging
import Plan

/// `koers plan`: check and inspect the Toekomstplan.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Check and inspect a plan file (the built-in NPHLN plan when none is given).",
        subcommands: [Check.self, Compile.self, History.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report every problem in a plan file, or summarise a valid one.",
            discussion: "Exits 1 when the plan has problems; each is printed as FILE:LINE:COLUMN: PATH: MESSAGE with a fix.")

        @Argument(help: "The plan file (YAML). Default: the built-in plan.")
        var file: String?

        @Flag(name: .long, help: "One JSON document: valid or not, every problem (file, line, column, path, message, fix), the plan's counts.")
        var json = false

        func run() throws {
            let name = file ?? "built-in plan (plans/nphln.yaml)"
            let plan: Plan
            do { plan = try PlanLoader.loadDefault(path: file) } catch {
                if json {
                    let problems: [[String: Any]] = (error as? PlanError)?.diagnostics.map { d in
                        var o: [String: Any] = ["file": d.file, "line": d.line, "column": d.column, "path": d.path, "message": d.message]
                        if let fix = d.fix { o["fix"] = fix }
                        return o
                    } ?? [["file": file ?? name, "message": "\(error)"]]
                    printJSON(["file": name, "valid": false, "problems": problems] as [String: Any])
                } else {
                    printError("\(error)")
                }
                throw ExitCode(1)
            }
            if json {
                printJSON(["file": name, "valid": true, "problems": [Any](), "summary": planSummary(plan)] as [String: Any])
                return
            }
            print("\(name): valid")
            print(plan.summary)
        }
    }

    struct Compile: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a plan file and write its compiled cache into an aggregator's data directory.",
            discussion: """
                What `koers aggregator run` does itself on its first start with a plan file \
                (`DATA/aggregator/plan-cache/`, docs/plan-format.md): done beforehand, no start \
                parses the YAML. The aggregator runs this in a child process for a large plan it \
                finds uncached, so that the parse's memory is never its own. Exits 1, with every \
                problem, when the plan is not valid.
                """)

        @Argument(help: "The plan file (YAML).")
        var file: String

        @Option(name: .long, help: "The aggregator's data directory.")
        var data: String = "data"

        func run() throws {
            let logger = Logger(label: "koers.plan")
            do { _ = try AggregatorRuntime.loadPlan(path: file, data: data, logger: logger) } catch {
                printError(error.description)
                throw ExitCode(1)
            }
            print("\(file): valid; compiled into \(AggregatorRuntime.planCacheDirectory(data: data))")
        }
    }

    /// The plan's counts as JSON: what `plan.summary` says in sentences.
    static func planSummary(_ p: Plan) -> [String: Any] {
        let ms = p.milestones
        var o: [String: Any] = [
            "programme": p.programme.name, "version": p.version, "horizon": "\(p.programme.horizon)",
            "themes": p.themes.map { t -> [String: Any] in
                ["id": t.id, "name": t.name, "goals": t.goals.count,
                 "interventions": t.goals.reduce(0) { $0 + $1.interventions.count },
                 "milestones": ms.filter { $0.theme == t.id }.count,
                 "indicators": t.goals.reduce(0) { $0 + $1.indicators.count }]
            },
            "areas": p.areas.count, "organisations": p.organisations.count, "fundingLines": p.funding.count,
            "leefgebieden": p.leefgebieden.count, "revisions": p.revisions.count,
        ]
        if let first = ms.map(\.milestone.start).min(), let last = ms.map(\.milestone.due).max() {
            o["milestonesFrom"] = first.iso
            o["milestonesTo"] = last.iso
        }
        return o
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the plan's revisions, or those of one item.")

        @Argument(help: "A milestone or indicator id; all revisions when omitted.")
        var item: String?

        @Option(name: .long, help: "The plan file (YAML). Default: the built-in plan.")
        var plan: String?

        @Flag(name: .long, help: "One JSON document: the plan version and its revisions (or the item's changes).")
        var json = false

        func run() throws {
            let p: Plan
            do { p = try PlanLoader.loadDefault(path: plan) } catch {
                printError(error.description)
                throw ExitCode(1)
            }
            if let item {
                let catalog = PlanCatalog(p)
                guard catalog.items[item] != nil else {
                    let near = catalog.suggestions(for: item)
                    printError("unknown item `\(item)`" + (near.isEmpty ? "" : "; did you mean \(near.map { "`\($0)`" }.joined(separator: ", "))?"))
                    throw ExitCode(1)
                }
            }
            if json {
                func change(_ c: Revision.Change, item: String?) -> [String: Any] {
                    var o: [String: Any] = ["field": c.field.rawValue, "from": "\(c.from)", "to": "\(c.to)"]
                    if let item { o["item"] = item }
                    return o
                }
                var o: [String: Any] = ["version": p.version]
                if let item {
                    o["item"] = item
                    o["changes"] = p.history(of: item).map { r, c in
                        change(c, item: nil).merging(["version": r.version, "date": "\(r.date)", "reason": r.reason]) { a, _ in a }
                    }
                } else {
                    o["revisions"] = p.revisions.map { r -> [String: Any] in
                        ["version": r.version, "date": "\(r.date)", "reason": r.reason, "changes": r.changes.map { change($0, item: $0.item) }]
                    }
                }
                printJSON(o)
                return
            }
            print("plan version \(p.version)")
            if let item {
                let changes = p.history(of: item)
                if changes.isEmpty { print("`\(item)` has not been re-planned since version 1") }
                for (r, c) in changes {
                    print("v\(r.version) \(r.date)  \(c.field.rawValue): \(c.from) → \(c.to)  (\(r.reason))")
                }
            } else {
                if p.revisions.isEmpty { print("no revisions: this is the original plan") }
                for r in p.revisions {
                    print("v\(r.version) \(r.date)  \(r.reason)")
                    for c in r.changes { print("    \(c.item) \(c.field.rawValue): \(c.from) → \(c.to)") }
                }
            }
        }
    }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    var stderr = StandardError()
    print(text, to: &stderr)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
