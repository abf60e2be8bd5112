import Aggregator
import ArgumentParser
import Foundation
import ZeroMQ

/// `koers doctor`: checks what can be wrong on this machine for running Koers.
struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check this machine: libzmq and CURVE, the aggregator's store, key files, the default ports, the clock.",
        discussion: """
            Each check is ok, warning or problem, with a sentence and, for a problem, the fix. \
            Exits 1 when any check is a problem. Reads only: the store is opened read-only and \
            a port is tested by binding it on 127.0.0.1 and letting it go at once.
            """)

    @Option(name: .long, help: "Where Koers keeps its data (the aggregator's store is DATA/aggregator/koers.sqlite).")
    var data: String = "data"

    @Option(name: .long, help: "Where key files live: NAME.key (public) and NAME.key_secret.")
    var keys: String = "keys"

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("The ports to check (default: the aggregator's 7401 7402 7403).", visibility: .hidden))
    var ports: [Int] = [7401, 7402, 7403]

    @Flag(name: .long, help: "One JSON document: every check with its status and sentence.")
    var json = false

    func run() throws {
        var checks: [DoctorCheck] = []
        checks += DoctorChecks.libzmq()
        checks.append(DoctorChecks.store(path: "\(data)/aggregator/koers.sqlite"))
        checks += DoctorChecks.keyFiles(directory: keys)
        checks += ports.map(DoctorChecks.port)
        checks += DoctorChecks.clock(data: data)
        let problems = checks.filter { $0.status == .problem }.count
        let warnings = checks.filter { $0.status == .warning }.count
        if json {
            printJSON(["checks": checks.map(\.json), "problems": problems, "warnings": warnings, "ok": problems == 0] as [String: Any])
        } else {
            let width = checks.map(\.name.count).max() ?? 0
            for c in checks {
                print("\(c.status.label)  \(c.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(c.message)")
                if let fix = c.fix { print("\(String(repeating: " ", count: 9 + width + 2))fix: \(fix)") }
            }
            print(problems == 0
                  ? "no problems\(warnings == 0 ? "" : ", \(warnings) warning\(warnings == 1 ? "" : "s")")"
                  : "\(problems) problem\(problems == 1 ? "" : "s")\(warnings == 0 ? "" : ", \(warnings) warning\(warnings == 1 ? "" : "s")")")
        }
        if problems > 0 { throw ExitCode(1) }
    }
}

/// One check's outcome.
struct DoctorCheck {
    enum Status: String { case ok, warning, problem
        var label: String { switch self { case .ok: "ok     "; case .warning: "warning"; case .problem: "PROBLEM" } }
    }
    var name: String
    var status: Status
    var message: String
    var fix: String? = nil

    var json: [String: Any] {
        var o: [String: Any] = ["name": name, "status": status.rawValue, "message": message]
        if let fix { o["fix"] = fix }
        return o
    }
}

enum DoctorChecks {
    /// libzmq's version, CURVE (zmq_has("curve") and generating a key pair) and ipc.
    static func libzmq() -> [DoctorCheck] {
        let v = ZeroMQ.version
        var checks = [v.major > 4 || (v.major == 4 && v.minor >= 3)
            ? DoctorCheck(name: "libzmq", status: .ok, message: "libzmq \(ZeroMQ.versionString) is loaded")
            : DoctorCheck(name: "libzmq", status: .warning, message: "libzmq \(ZeroMQ.versionString) is older than 4.3, the version Koers is tested with",
                          fix: "install libzmq 4.3 or later (Debian: apt-get install libzmq3-dev)")]
        if !ZeroMQ.has("curve") {
            checks.append(DoctorCheck(name: "curve", status: .problem, message: "this libzmq was built without CURVE: zmq_has(\"curve\") is false, so no report can be encrypted",
                                      fix: "install a libzmq built with libsodium (Debian's libzmq5 is)"))
        } else {
            do {
                try ZeroMQ.requireCurve()
                _ = try CurveKeyPair.generate()
                checks.append(DoctorCheck(name: "curve", status: .ok, message: "CURVE is supported and a key pair can be generated"))
            } catch {
                checks.append(DoctorCheck(name: "curve", status: .problem, message: "CURVE is reported but a key pair cannot be generated: \(error)"))
            }
        }
        checks.append(ZeroMQ.has("ipc")
            ? DoctorCheck(name: "ipc", status: .ok, message: "the ipc:// transport is available")
            : DoctorCheck(name: "ipc", status: .warning, message: "the ipc:// transport is not available; use tcp:// endpoints"))
        return checks
    }

    /// `PRAGMA integrity_check` on the aggregator's store, opened read-only: the full
    /// check (the aggregator runs the quicker `quick_check` when it starts).
    static func store(path: String) -> DoctorCheck {
        guard FileManager.default.fileExists(atPath: path) else {
            return DoctorCheck(name: "store", status: .ok, message: "no aggregator store at \(path) (the aggregator creates it on its first run; pass --data for another data directory)")
        }
        do {
            let lines = try ReportStore.integrityCheck(path: path)
            if lines == ["ok"] {
                return DoctorCheck(name: "store", status: .ok, message: "\(path) passes PRAGMA integrity_check")
            }
            return DoctorCheck(name: "store", status: .problem,
                               message: "\(path) fails PRAGMA integrity_check: \(lines.prefix(5).joined(separator: "; "))\(lines.count > 5 ? "; …" : "")",
                               fix: "stop the aggregator and restore the latest back-up: `koers aggregator restore BACKUP.sqlite --data DATA` (docs/operations.md, Back-up and restore)")
        } catch {
            return DoctorCheck(name: "store", status: .problem, message: "\(path) cannot be read as an SQLite store: \(error)",
                               fix: "check the file's owner and mode; restore it from the latest back-up if it is damaged")
        }
    }

    /// Every key file: readable, well-formed, named after the identity inside it, and
    /// secret files readable by their owner only.
    static func keyFiles(directory: String) -> [DoctorCheck] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            return [DoctorCheck(name: "keys", status: .warning, message: "no keys directory at \(directory); pass --keys, or create keys with `koers keys generate NAME --dir \(directory)`")]
        }
        let names = ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).sorted().filter { $0.hasSuffix(".key") || $0.hasSuffix(".key_secret") }
        guard !names.isEmpty else {
            return [DoctorCheck(name: "keys", status: .warning, message: "no key files in \(directory)")]
        }
        // The same checks the aggregator and the theme services apply when they load a key.
        let duplicates = ((try? CurveKeyFile.loadTrustedKeys(directory: directory))?.refused ?? []).filter { $0.code == .duplicate }
        return names.map { name in
            let path = (directory as NSString).appendingPathComponent(name)
            switch CurveKeyFile.check(path) {
            case .failure(let problem):
                return DoctorCheck(name: "key \(name)", status: .problem, message: problem.message, fix: problem.fix)
            case .success(_) where duplicates.contains(where: { ($0.path as NSString).lastPathComponent == name }):
                let problem = duplicates.first { ($0.path as NSString).lastPathComponent == name }!
                return DoctorCheck(name: "key \(name)", status: .problem, message: problem.message, fix: problem.fix)
            case .success(let file):
                let mode = ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int).map { String($0, radix: 8) } ?? "?"
                return DoctorCheck(name: "key \(name)", status: .ok, message: "`\(file.identity)`\(file.secretKey != nil ? ", secret, mode \(mode)" : ", public")")
            }
        }
    }

    /// Whether a TCP port can be bound on 127.0.0.1 (bound and released at once).
    static func port(_ port: Int) -> DoctorCheck {
        let name = "port \(port)"
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return DoctorCheck(name: name, status: .warning, message: "cannot open a socket to test it: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc == 0 { return DoctorCheck(name: name, status: .ok, message: "free") }
        let why = errno
        if why == EADDRINUSE {
            return DoctorCheck(name: name, status: .warning,
                               message: "in use: an aggregator may already be running, or another program holds it (`ss -ltnp 'sport = :\(port)'` says which)")
        }
        return DoctorCheck(name: name, status: .warning, message: "cannot be bound on 127.0.0.1: \(String(cString: strerror(why)))")
    }

    /// The clock: UTC now and the time zone, and whether it is plausible (not before the
    /// programme began, not behind the newest file in the data directory).
    static func clock(data: String, now: Date = Date()) -> [DoctorCheck] {
        let iso = ISO8601DateFormatter()
        let tz = TimeZone.current
        let offset = tz.secondsFromGMT(for: now)
        let offsetText = String(format: "%@%02d:%02d", offset < 0 ? "-" : "+", abs(offset) / 3600, abs(offset) % 3600 / 60)
        var checks: [DoctorCheck] = []
        // Koers compares report dates with today; a clock before 2022 refuses every report as "in the future".
        if now < iso.date(from: "2022-01-01T00:00:00Z")! {
            checks.append(DoctorCheck(name: "clock", status: .problem,
                                      message: "the clock reads \(iso.string(from: now)), before the programme began; reports would be refused as in the future",
                                      fix: "set the system clock (timedatectl set-ntp true)"))
        } else {
            checks.append(DoctorCheck(name: "clock", status: .ok,
                                      message: "now \(iso.string(from: now)) UTC; time zone \(tz.identifier) (UTC\(offsetText)). Koers stores times in UTC"))
        }
        // A file modified in the future (beyond a minute) means the clock went back since it was written.
        let fm = FileManager.default
        var newest: (String, Date)?
        if let walk = fm.enumerator(atPath: data) {
            var seen = 0
            while let rel = walk.nextObject() as? String, seen < 10_000 {
                seen += 1
                let path = (data as NSString).appendingPathComponent(rel)
                if let m = (try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date, m > (newest?.1 ?? .distantPast) { newest = (path, m) }
            }
        }
        if let (path, m) = newest, m.timeIntervalSince(now) > 60 {
            checks.append(DoctorCheck(name: "clock vs data", status: .warning,
                                      message: "\(path) was modified at \(iso.string(from: m)), \(DoctorChecks.duration(m.timeIntervalSince(now))) after the clock's now: the clock has gone back since",
                                      fix: "check the system clock (timedatectl status)"))
        }
        return checks
    }

    /// "66 s", "5 min", "1 day", "2 days".
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 120 { return "\(s) s" }
        if s < 7200 { return "\(s / 60) min" }
        if s < 172_800 { return "\(s / 3600) h" }
        let d = s / 86_400
        return "\(d) day\(d == 1 ? "" : "s")"
    }
}
