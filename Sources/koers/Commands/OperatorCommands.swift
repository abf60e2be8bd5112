import History
import ArgumentParser
import Foundation
import Operators
import Plan
import Status
import StreamProtocol
import ZeroMQ

/// Where operator tools find the aggregator, and with which key.
struct OperatorOptions: ParsableArguments {
    @Option(name: .long, help: "The aggregator's snapshot endpoint.")
    var snapshot: String = "tcp://127.0.0.1:7403"
    @Option(name: .long, help: "The aggregator's stream endpoint.")
    var stream: String = "tcp://127.0.0.1:7402"
    @Option(name: .long, help: "Where key files live (this operator's NAME.key_secret and aggregator.key).")
    var keys: String = "keys"
    @Option(name: .customLong("as"), help: "The operator whose key to use (KEYS/operator.NAME.key_secret, identity operator:NAME); needed when the keys directory holds more than one.")
    var name: String?
    @Flag(name: .long, help: "Connect without encryption (the aggregator must run --plain).")
    var plain = false

    func client() throws -> OperatorClient {
        if plain { return try OperatorClient(snapshotEndpoint: snapshot, streamEndpoint: stream, keys: nil, serverKey: nil) }
        return try OperatorClient(snapshotEndpoint: snapshot, streamEndpoint: stream, keys: try loadKeyPair(keys, try operatorKeyStem()),
                                  serverKey: try loadPublicKey(keys, "aggregator"))
    }

    /// `operator.NAME`: the one given with --as, or the only operator key there is.
    func operatorKeyStem() throws -> String {
        if let name { return CurveKeyFile.fileStem(for: name.hasPrefix("operator:") ? name : "operator:\(name)") }
        let found = ((try? FileManager.default.contentsOfDirectory(atPath: keys)) ?? [])
            .filter { $0.hasPrefix("operator.") && $0.hasSuffix(".key_secret") }.sorted()
        guard found.count == 1 else {
            throw ValidationError(found.isEmpty
                ? "no operator key in \(keys): create one with `koers keys generate operator:NAME --dir \(keys)` and copy its .key to the aggregator's keys"
                : "\(keys) holds several operator keys (\(found.joined(separator: ", "))); choose one with --as NAME")
        }
        return String(found[0].dropLast(".key_secret".count))
    }
}

func isTerminal() -> Bool { isatty(STDOUT_FILENO) == 1 }

/// `koers status`: the status tree.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Print the Toekomstplan's status tree with progress, state and why.",
        discussion: "Asks the running aggregator, or with --as-of recomputes the status from the stored history (like `koers replay`).")

    @Option(name: .long, help: "Only this theme.") var theme: String?
    @Option(name: .long, help: "Only items in this area (wijk).") var area: String?
    @Option(name: .long, help: "The status as of this date (YYYY-MM-DD), from stored history.") var asOf: String?
    @Flag(name: .long, help: "Print the snapshot as JSON.") var json = false
    @OptionGroup var op: OperatorOptions
    @Option(name: .long, help: "Where the aggregator keeps its data (for --as-of).") var data: String = "data"
    @Option(name: .long, help: "The plan file. Default: the built-in plan.") var plan: String?

    func run() throws {
        let p: Plan
        do { p = try PlanLoader.loadDefault(path: plan) } catch { printError(error.description); throw ExitCode(1) }
        if let theme, let error = OperatorInput.checkTheme(theme, in: p) { throw ValidationError(error) }
        if let area, let error = OperatorInput.checkArea(area, in: p) { throw ValidationError(error) }
        let snap: StreamDocuments.Snapshot
        if let asOf {
            guard let d = PlanDate(iso: asOf) else { throw ValidationError("--as-of must be YYYY-MM-DD, not `\(asOf)`") }
            snap = try Replay.status(history: try openHistory(data), plan: p, asOf: d)
        } else {
            do { snap = try op.client().snapshot(theme: theme) } catch { printError("\(error)"); throw ExitCode(1) }
        }
        // Narrowed here, over the document: the aggregator narrows by theme only, a replay not at all.
        if json { print(StreamDocuments.encode(snap.narrowed(plan: p, theme: theme, area: area))); return }
        print(StatusRenderer(colour: isTerminal()).render(snap, plan: p, theme: theme, area: area))
    }
}

func openHistory(_ data: String) throws -> StoreHistory {
    do { return try StoreHistory(path: "\(data)/aggregator/koers.sqlite") } catch let e as HistoryError { throw ValidationError(e.description) }
}

/// `koers replay`: the status as of a date, recomputed from stored history.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Recompute the status as of a date from the aggregator's stored reports (no running aggregator needed).")

    @Option(name: .long, help: "The date (YYYY-MM-DD).") var asOf: String
    @Option(name: .long, help: "Where the aggregator keeps its data.") var data: String = "data"
    @Option(name: .long, help: "The plan file. Default: the built-in plan.") var plan: String?
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() throws {
        let p: Plan
        do { p = try PlanLoader.loadDefault(path: plan) } catch { printError(error.description); throw ExitCode(1) }
        guard let d = PlanDate(iso: asOf) else { throw ValidationError("--as-of must be YYYY-MM-DD, not `\(asOf)`") }
        let snap = try Replay.status(history: try openHistory(data), plan: p, asOf: d)
        if json { print(StreamDocuments.encode(snap)) } else { print(StatusRenderer(colour: isTerminal()).render(snap, plan: p)) }
    }
}

/// `koers alerts`: follow the alert stream.
struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Follow the alert stream: the open alerts first, then every transition live; reconnects by itself.")

    @Option(name: .long, help: "Only this theme.") var theme: String?
    @Option(name: .long, help: "Only this severity and above: info, warning, critical.") var severity: String?
    @Flag(name: .long, help: "One JSON document per line.") var json = false
    @Flag(name: .long, help: "Also print status changes.") var status = false
    @Option(name: .long, help: "The plan file (to check --theme). Default: the built-in plan.") var plan: String?
    @OptionGroup var op: OperatorOptions

    func run() async throws {
        if let theme {
            let p: Plan
            do { p = try PlanLoader.loadDefault(path: plan) } catch { printError(error.description); throw ExitCode(1) }
            if let error = OperatorInput.checkTheme(theme, in: p) { throw ValidationError(error) }
        }
        var minimum = Severity.info
        if let severity {
            guard let s = Severity(rawValue: severity) else { throw ValidationError("--severity must be info, warning or critical") }
            minimum = s
        }
        let renderer = StatusRenderer(colour: isTerminal())
        // Silent themes, to mark their items' alerts held.
        var silent: Set<String> = []
        for try await event in try op.client().follow(theme: theme) {
            switch event {
            case .snapshot(let s):
                silent = Set(s.silentThemes)
                let open = s.alerts.filter { $0.severity >= minimum }
                if json { for a in open { print(StreamDocuments.encode(a)) } } else {
                    print("— \(s.date): \(open.count) open alert\(open.count == 1 ? "" : "s") (stream #\(s.sequence))")
                    for a in open { print("  " + renderer.alertLine(a, silentThemes: silent)) }
                }
            case .alert(let t):
                if t.alert.rule == "theme-silent" {
                    if t.to == .resolved { silent.remove(t.alert.subject) } else { silent.insert(t.alert.subject) }
                }
                guard t.alert.severity >= minimum else { continue }
                if json { print(StreamDocuments.encode(t)) } else {
                    print("#\(t.sequence) \(t.date) \(t.from?.rawValue ?? "new") → \(t.to.rawValue)  " + renderer.alertLine(t.alert, silentThemes: silent))
                }
            case .status(let c):
                guard status else { continue }
                if json { print(StreamDocuments.encode(c)) } else {
                    print("#\(c.sequence) \(c.date) \(c.item): \(c.from?.rawValue ?? "-") → \(c.to.rawValue) — \(c.why)")
                }
            case .gap(let expected, let got):
                if !json { print("— missed #\(expected)…#\(got - 1); taking a fresh snapshot") }
            case .heartbeat:
                break
            case .disconnected(let why):
                if !json { print("— disconnected (\(why)); reconnecting") }
            }
            fflush(nil)
        }
    }
}

/// `koers ack`: acknowledge an alert.
struct AckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ack",
        abstract: "Acknowledge an alert: who, why, and until when (or until it resolves).")

    @Argument(help: "The alert key, e.g. milestone-lagging:bvs-werksferen.") var alert: String
    @Option(name: .long, help: "Why (required).") var reason: String
    @Option(name: .long, help: "Until this date (YYYY-MM-DD); default: until it resolves.") var until: String?
    @Option(name: .long, help: "Who acknowledges (default: $USER).") var by: String?
    @OptionGroup var op: OperatorOptions

    func run() throws {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--reason must say why") }
        if let until, PlanDate(iso: until) == nil { throw ValidationError("--until must be YYYY-MM-DD, not `\(until)`") }
        do {
            let client = try op.client()
            var u: PlanDate?
            if let until {
                // A past date is refused before sending. Past by the aggregator's date (its
                // snapshot's), not this machine's: a demo or test clock is not the wall clock.
                switch OperatorInput.ackUntil(until, today: try client.snapshot(theme: nil).date) {
                case .success(let d): u = d
                case .failure(let e): throw ValidationError(e.message)
                }
            }
            try client.acknowledge(key: alert, by: by ?? ProcessInfo.processInfo.environment["USER"] ?? "operator", reason: reason, until: u)
            print("acknowledged \(alert)")
        } catch let e as ValidationError {
            throw e
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}
