import ArgumentParser
import Demo
import Foundation
import Plan
import UnixSignals

/// `koers demo`: `make run`.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Play the Toekomstplan 2022 → 2025 with the aggregator and the theme services as separate processes.",
        discussion: """
            Fresh keys, loopback endpoints and a compressed clock: reports arrive as the scenario \
            scripts them, some milestones are met, some slip and fire alerts, some recover and \
            resolve them, a theme service goes silent for six weeks, and an operator acknowledges \
            an alert. The alert stream and a quarterly summary are shown as it goes, the status \
            tree at the end. Ctrl-C stops everything and says where the data is.
            """)

    @Option(name: .long, help: "How long the demo runs, in seconds (sets the speed).")
    var seconds: Double = 120

    @Option(name: .long, help: "Simulated days per second (overrides --seconds).")
    var speed: Double?

    @Option(name: .long, help: "The aggregator's HTTP address, or `none` (default: 127.0.0.1:7480, or a free port when that is taken).")
    var http: String?

    @Option(name: .long, help: "Where to put the demo's keys, data and logs (emptied first).")
    var dir: String = "demo"

    @Flag(name: .long, help: "Print only the final status and the scenario check.")
    var quiet = false

    func run() async throws {
        guard seconds > 0, speed.map({ $0 > 0 }) ?? true else { throw ValidationError("--seconds and --speed must be positive") }
        let plan = try PlanLoader.loadDefault(path: nil)
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let dirPath = (dir as NSString).isAbsolutePath ? dir : FileManager.default.currentDirectoryPath + "/" + dir
        var options = DemoRunner.Options(executable: exe, directory: dirPath)
        options.seconds = seconds
        options.speed = speed
        options.quiet = quiet
        options.http = http
        // Colour on a terminal, unless NO_COLOR is set (https://no-color.org); lines
        // wrapped between words to the terminal's width.
        let terminal = isatty(STDOUT_FILENO) == 1
        let noColour = !(ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
        options.colour = terminal && !noColour
        options.width = terminal ? terminalWidth() : nil
        let runner = DemoRunner(options: options, plan: plan, say: { print($0); fflush(nil) })
        let width = options.width
        func say(_ text: String) { print(DemoText.wrap(text, width: width)) }

        // Ctrl-C or SIGTERM: stop the processes the demo started, say where the data is.
        // Trapped through swift-service-lifecycle's UnixSignals, as the aggregator's are.
        let demo = Task { try await runner.run() }
        let watch = Task {
            for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) {
                demo.cancel()
                return
            }
        }
        let ok: Bool
        do { ok = try await demo.value } catch is CancellationError {
            runner.stopAll()
            say("\nStopped. Keys, data and logs are in \(dirPath).")
            throw ExitCode(130)
        } catch {
            runner.stopAll()
            say("\nThe demo failed: \(error)\nKeys, data and logs are in \(dirPath).")
            throw ExitCode(1)
        }
        watch.cancel()
        runner.stopAll()
        say("Everything stopped. Keys, data and logs are in \(dirPath) (the aggregator's store: \(dirPath)/data/aggregator/koers.sqlite).")
        if !ok { throw ExitCode(1) }
    }
}

/// The terminal's width in columns: the window size of standard output, else $COLUMNS, else 80.
func terminalWidth() -> Int {
    var size = winsize()
    if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
    if let c = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), c > 0 { return c }
    return 80
}

