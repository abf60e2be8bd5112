import ArgumentParser
import Foundation
import Logging
import Plan
import ServiceLifecycle
import ThemeService
import ZeroMQ

/// `koers theme`: run a theme service and read its state.
struct ThemeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "theme",
        abstract: "Run a theme service, or show what its outbox holds.",
        subcommands: [Run.self, Status.self])

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the theme service: send the outbox to the aggregator until stopped (SIGTERM/SIGINT).")

        @Argument(help: "The theme: talent, work, health, safety or bestuurskracht.")
        var theme: String

        @OptionGroup var common: CommonOptions

        @Option(name: .long, help: "The aggregator's ingest endpoint.")
        var aggregator: String = "tcp://127.0.0.1:7401"

        @Flag(name: .long, help: "Send without encryption or authentication (tests only; the aggregator must be plain too).")
        var plain = false

        @Option(name: .long, help: ArgumentHelp("Seconds between heartbeats when idle.", visibility: .hidden))
        var heartbeat: Double = 1

        @OptionGroup var clock: ClockOptions

        @OptionGroup var log: LogOptions

        func run() async throws {
            let logger = bootstrapLogging(log)
            let plan = try common.loadPlan()
            _ = try plugin(for: theme, plan: plan)
            var config = ThemeServiceConfiguration(theme: theme, outboxPath: outboxPath(data: common.data, theme: theme))
            config.aggregatorEndpoint = aggregator
            config.planVersion = UInt64(plan.version)
            if !plain {
                config.keyPair = try loadKeyPair(common.keys, theme)
                config.aggregatorKey = try loadPublicKey(common.keys, "aggregator")
            }
            config.heartbeatInterval = .milliseconds(Int(heartbeat * 1000))
            config.pollInterval = min(config.pollInterval, config.heartbeatInterval)
            let runner = ThemeServiceRunner(configuration: config, clock: try clock.make(), logger: logger)
            let group = ServiceGroup(configuration: .init(services: [.init(service: runner)],
                                                          gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            do { try await group.run() } catch let problem as OutboxProblem {
                logger.critical("the outbox is not used; the theme service does not start", metadata: ["outbox": "\(problem.path)"])
                printError(problem.description)
                throw ExitCode(1)
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what is pending, acknowledged and refused (and why), and the last contact with the aggregator.")

        @Argument(help: "The theme.")
        var theme: String

        @OptionGroup var common: CommonOptions

        @Flag(name: .long, help: "Print one JSON object instead of text.")
        var json = false

        func run() throws {
            let path = outboxPath(data: common.data, theme: theme)
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("no outbox at \(path): nothing has been reported for `\(theme)` from this data directory")
            }
            let s = try Outbox(path: path).summary()
            if json {
                print(try statusJSON(s, path: path))
                return
            }
            print("theme \(theme) — outbox \(path)")
            print("  reports       \(s.lastSequence) (last sequence)")
            print("  acknowledged  \(s.acked) (aggregator has everything through \(s.settledThrough))")
            print("  pending       \(s.pending)")
            print("  refused       \(s.refused.count)")
            if let t = s.lastContact {
                let date = Date(timeIntervalSince1970: Double(t) / 1000)
                print("  last contact  \(ISO8601DateFormatter().string(from: date))")
            } else {
                print("  last contact  never")
            }
            if let d = s.diagnosis {
                let when = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(d.at) / 1000))
                print("  connection    \(d.verdict) (\(when)): \(d.sentence)")
            }
            if let p = s.lastProblem { print("  PROBLEM       \(p)") }
            for e in s.refused {
                print("  refused #\(e.sequence) \(e.item): \(e.reason.map(\.description) ?? "?") — \(e.detail ?? "")")
            }
        }

        func statusJSON(_ s: Outbox.Summary, path: String) throws -> String {
            struct Refused: Encodable { var sequence: UInt64; var item: String; var code: Int?; var reason: String?; var detail: String? }
            struct Connection: Encodable { var diagnosis: String; var sentence: String; var at: Int64 }
            struct Doc: Encodable {
                var theme: String, outbox: String
                var last_sequence: UInt64, settled_through: UInt64, acknowledged: Int, pending: Int
                var refused: [Refused]
                var last_contact: Int64?
                var connection: Connection?
                var problem: String?
            }
            let doc = Doc(theme: theme, outbox: path, last_sequence: s.lastSequence, settled_through: s.settledThrough, acknowledged: s.acked,
                          pending: s.pending,
                          refused: s.refused.map { Refused(sequence: $0.sequence, item: $0.item, code: $0.reason.map { Int($0.rawValue) },
                                                           reason: $0.reason?.name, detail: $0.detail) },
                          last_contact: s.lastContact,
                          connection: s.diagnosis.map { Connection(diagnosis: $0.verdict, sentence: $0.sentence, at: $0.at) },
                          problem: s.lastProblem)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: try encoder.encode(doc), as: UTF8.self)
        }
    }
}

/// `koers report`: one report, checked and queued.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Report progress on a milestone or a measurement of an indicator; it is checked and queued in the outbox.",
        discussion: """
            Examples:
              koers report safety milestone vc-intentieovereenkomst --value 1 --as-of 2022-11-28 --note "Getekend"
              koers report health indicator gelukkig --period 2013-01-01..2023-12-31 --value 82
            The running theme service sends it; `koers theme status THEME` shows when it is acknowledged.
            """)

    enum Kind: String, ExpressibleByArgument { case milestone, indicator }

    @Argument(help: "The theme.")
    var theme: String
    @Argument(help: "milestone or indicator.")
    var kind: Kind
    @Argument(help: "The milestone or indicator id.")
    var id: String

    @Option(name: .long, help: "The value: a count or amount; for a binary milestone 1 (done) or 0.")
    var value: String
    @Option(name: .long, help: "Milestones: the date it happened (YYYY-MM-DD). Default: today.")
    var asOf: String?
    @Option(name: .long, help: "Indicators: the period: YYYY, YYYY-MM, YYYY-Qn or START..END.")
    var period: String?
    @Option(name: .long, help: "The unit you counted in; refused if it is not the plan's.")
    var unit: String?
    @Option(name: .long, help: "A note for the record.")
    var note: String?
    @Option(name: .long, help: "Who reports (default: $USER).")
    var reporter: String?

    @OptionGroup var common: CommonOptions

    func run() throws {
        let plan = try common.loadPlan()
        let checker = ReportChecker(plan: plan, plugin: try plugin(for: theme, plan: plan))
        let v: Double
        do { v = try number(value, "--value") } catch { throw ValidationError(error.message) }
        let now = nowMilliseconds()
        let draft: ReportDraft
        switch kind {
        case .milestone:
            guard period == nil else { throw ValidationError("--period is for indicators; a milestone takes --as-of") }
            let today = PlanDate(epochMilliseconds: now)
            guard let d = asOf.map({ PlanDate(iso: $0) }) ?? today else { throw ValidationError("--as-of must be a date written YYYY-MM-DD, not `\(asOf!)`") }
            draft = .milestone(item: id, value: v, asOf: d, note: note, unit: unit)
        case .indicator:
            guard asOf == nil else { throw ValidationError("--as-of is for milestones; an indicator takes --period") }
            guard let p = period else { throw ValidationError("an indicator measurement needs --period (YYYY, YYYY-MM, YYYY-Qn or START..END)") }
            guard let (s, e) = parsePeriod(p) else { throw ValidationError("cannot read --period `\(p)`: write YYYY, YYYY-MM, YYYY-Qn or START..END") }
            draft = .indicator(item: id, value: v, periodStart: s, periodEnd: e, note: note, unit: unit)
        }
        let payload: Payload
        do { payload = try checker.check(draft, reporter: reporter ?? ProcessInfo.processInfo.environment["USER"], now: now) } catch {
            printError("refused: \(error.message)")
            throw ExitCode(1)
        }
        let seq = try Outbox(path: outboxPath(data: common.data, theme: theme)).enqueue([payload], now: now)
        print("queued #\(seq[0]) \(kind.rawValue) \(id) = \(value) for \(theme)")
    }
}

import Wire

/// `YYYY`, `YYYY-MM`, `YYYY-Qn` or `START..END`.
func parsePeriod(_ text: String) -> (PlanDate, PlanDate)? {
    if let r = text.range(of: "..") {
        guard let s = PlanDate(iso: String(text[..<r.lowerBound])), let e = PlanDate(iso: String(text[r.upperBound...])) else { return nil }
        return (s, e)
    }
    let parts = text.split(separator: "-")
    guard let y = Int(parts[0]), parts[0].count == 4 else { return nil }
    if parts.count == 1 { return (PlanDate(year: y, month: 1, day: 1)!, PlanDate(year: y, month: 12, day: 31)!) }
    guard parts.count == 2 else { return nil }
    if parts[1].hasPrefix("Q"), let q = Int(parts[1].dropFirst()), (1...4).contains(q) {
        let start = PlanDate(year: y, month: 3 * q - 2, day: 1)!
        return (start, start.adding(months: 3).adding(days: -1))
    }
    guard let m = Int(parts[1]), let start = PlanDate(year: y, month: m, day: 1) else { return nil }
    return (start, start.adding(months: 1).adding(days: -1))
}

/// `koers import`: a CSV file, all rows or none.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a CSV file of reports for a theme: every row is checked, then all are queued, or none.",
        discussion: "The theme's formats are in its plugin's README (Plugins/<Theme>/README.md); every theme reads the generic format kind,item,value,as_of,period_start,period_end,note.")

    @Argument(help: "The theme.")
    var theme: String
    @Argument(help: "The CSV file.")
    var file: String
    @Option(name: .long, help: "Who reports (default: $USER).")
    var reporter: String?

    @OptionGroup var common: CommonOptions

    func run() throws {
        let plan = try common.loadPlan()
        let importer = Importer(checker: ReportChecker(plan: plan, plugin: try plugin(for: theme, plan: plan)))
        do {
            let table = try CSVTable(text: (try? String(contentsOfFile: file, encoding: .utf8)) ?? "")
            let name = importer.collector(for: table)?.name ?? "?"
            let seqs = try importer.importFile(file, into: try Outbox(path: outboxPath(data: common.data, theme: theme)),
                                               reporter: reporter ?? ProcessInfo.processInfo.environment["USER"], now: nowMilliseconds())
            print("queued \(seqs.count) report\(seqs.count == 1 ? "" : "s") (#\(seqs.first!)–#\(seqs.last!)) from \(file) (format \(name))")
        } catch let e as ImportError {
            printError(e.description)
            throw ExitCode(1)
        } catch let e as ReportError {
            printError("\(file): \(e)")
            throw ExitCode(1)
        }
    }
}
