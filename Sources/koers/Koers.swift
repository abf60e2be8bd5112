import ArgumentParser
import Logging
import ZeroMQ

/// The `koers` command: one executable for theme teams and operators alike.
@main
struct Koers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "koers",
        abstract: "Progress monitor for the Nationaal Programma Heerlen-Noord.",
        discussion: """
            Theme services report progress over ZeroMQ to an aggregator that composes the \
            Toekomstplan status and alerts on lagging milestones. See docs/ for the design.
            """,
        version: "0.1.0",
        subcommands: [DemoCommand.self, AggregatorCommand.self, ThemeCommand.self, ReportCommand.self, ImportCommand.self, StatusCommand.self, AlertsCommand.self, AckCommand.self, AcksCommand.self, ReplayCommand.self, CouncilReportCommand.self, PlanCommand.self, Keys.self, Doctor.self]
    )
}

extension Koers {
    /// A command that takes `--config FILE` has the file's settings put before its
    /// command line first (`ConfigFile.prepare`); then the usual parse and run.
    static func main() async {
        await main(ConfigFile.prepare(Array(CommandLine.arguments.dropFirst())))
    }
}
