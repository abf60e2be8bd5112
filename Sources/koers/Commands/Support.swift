import Foundation
import Logging
import Plan
import ThemeService
import ThemeRegistry
import ZeroMQ
import ArgumentParser

/// Options every process-running command shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Where Koers keeps its data (outboxes, the aggregator's store).")
    var data: String = "data"

    @Option(name: .long, help: "Where key files live: NAME.key (public) and NAME.key_secret.")
    var keys: String = "keys"

    @Option(name: .long, help: "The plan file (YAML). Default: the built-in plan.")
    var plan: String?

    func loadPlan() throws -> Plan {
        do { return try PlanLoader.loadDefault(path: plan) } catch {
            printError(error.description)
            throw ExitCode(1)
        }
    }
}

/// The plugin for a theme: the team's own, or the generic one for a theme without code.
func plugin(for theme: String, plan: Plan) throws -> any ThemePlugin {
    guard plan.themes.contains(where: { $0.id == theme }) else {
        throw ValidationError("unknown theme `\(theme)`; the plan's themes are \(plan.themes.map(\.id).joined(separator: ", "))")
    }
    return ThemeRegistry.plugin(for: theme)
}

func outboxPath(data: String, theme: String) -> String { "\(data)/\(theme)/outbox.sqlite" }

/// Reads a key pair from `DIR/NAME.key_secret`, with a clear error naming the fix.
func loadKeyPair(_ dir: String, _ name: String) throws -> CurveKeyPair {
    let path = "\(dir)/\(name).key_secret"
    guard FileManager.default.fileExists(atPath: path) else {
        throw ValidationError("no key pair at \(path); create one with `koers keys generate \(name) --dir \(dir)`")
    }
    guard let pair = try CurveKeyFile.read(path).keyPair else { throw ValidationError("\(path) holds no secret key") }
    return pair
}

func loadPublicKey(_ dir: String, _ name: String) throws -> CurvePublicKey {
    let path = "\(dir)/\(name).key"
    guard FileManager.default.fileExists(atPath: path) else {
        throw ValidationError("no public key at \(path); copy the aggregator's \(name).key here")
    }
    return try CurveKeyFile.read(path).publicKey
}

func nowMilliseconds() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

import Wire

/// The clock a process runs on: the machine's, or a compressed one for demos.
struct ClockOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Run on a simulated clock that starts at this date (YYYY-MM-DD).", visibility: .hidden))
    var clockStart: String?

    @Option(name: .long, help: ArgumentHelp("Simulated days per real second (with --clock-start).", visibility: .hidden))
    var clockSpeed: Double = 1

    @Option(name: .long, help: ArgumentHelp("Wall-clock ms at which the simulated clock read --clock-start (shared by the demo's processes).", visibility: .hidden))
    var clockOrigin: Int64?

    @Option(name: .long, help: ArgumentHelp("The simulated clock stands still at the end of this date (YYYY-MM-DD; with --clock-start).", visibility: .hidden))
    var clockStop: String?

    func make() throws -> any KoersClock {
        guard let clockStart else { return SystemClock() }
        guard let d = PlanDate(iso: clockStart) else { throw ValidationError("--clock-start must be YYYY-MM-DD") }
        var stop: Int64?
        if let clockStop {
            guard let s = PlanDate(iso: clockStop), s >= d else { throw ValidationError("--clock-stop must be a YYYY-MM-DD date not before --clock-start") }
            stop = s.adding(days: 1).epochMilliseconds - 1
        }
        return SharedScaledClock(start: d.epochMilliseconds, speed: clockSpeed * 86_400,
                                 originWallMs: clockOrigin ?? Int64((Date().timeIntervalSince1970 * 1000).rounded()), stopMs: stop)
    }
}

