import ArgumentParser
import Foundation
import Plan

/// `koers plan`: check and inspect the Toekomstplan.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Check and inspect a plan file (the built-in NPHLN plan when none is given).",
        subcommands: [Check.self, History.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report every problem in a plan file, or summarise a valid one.",
            discussion: "Exits 1 when the plan has problems; each is printed as FILE:LINE:COLUMN: PATH: MESSAGE with a fix.")

        @Argument(help: "The plan file (YAML). Default: the built-in plan.")
        var file: String?

        func run() throws {
            do {
                let plan = try PlanLoader.loadDefault(path: file)
                print("\(file ?? "built-in plan (plans/nphln.yaml)"): valid")
                print(plan.summary)
            } catch {
                printError(error.description)
                throw ExitCode(1)
            }
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the plan's revisions, or those of one item.")

        @Argument(help: "A milestone or indicator id; all revisions when omitted.")
        var item: String?

        @Option(name: .long, help: "The plan file (YAML). Default: the built-in plan.")
        var plan: String?

        func run() throws {
            let p: Plan
            do { p = try PlanLoader.loadDefault(path: plan) } catch {
                printError(error.description)
                throw ExitCode(1)
            }
            print("plan version \(p.version)")
            if let item {
                let catalog = PlanCatalog(p)
                guard catalog.items[item] != nil else {
                    let near = catalog.suggestions(for: item)
                    printError("unknown item `\(item)`" + (near.isEmpty ? "" : "; did you mean \(near.map { "`\($0)`" }.joined(separator: ", "))?"))
                    throw ExitCode(1)
                }
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
