import Foundation
import Testing
import ZeroMQ
@testable import ThemeService
import ThemeRegistry
import Aggregator

/// A fresh temporary directory.
private func tempDir(_ what: String) throws -> String {
    let dir = NSTemporaryDirectory() + "koers-\(what)-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// Parses the JSON document a command printed.
private func json(_ text: String) throws -> [String: Any] {
    guard let o = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
        throw TestFailure("not a JSON object: \(text)")
    }
    return o
}

/// `koers ARGS` with `environment` added, standard output on a pseudo-terminal;
/// returns the exit status and what it printed.
private func runKoersOnTerminal(_ args: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
    // /dev/ptmx by hand (posix_openpt and friends are not visible from Swift's Glibc):
    // unlock the slave (TIOCSPTLCK), ask its number (TIOCGPTN), open /dev/pts/N.
    let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
    var unlock: Int32 = 0, number: UInt32 = 0
    guard master >= 0, ioctl(master, UInt(0x4004_5431), &unlock) == 0, ioctl(master, UInt(0x8004_5430), &number) == 0 else {
        throw TestFailure("cannot open a pseudo-terminal")
    }
    let slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
    guard slave >= 0 else { throw TestFailure("cannot open the pseudo-terminal's slave") }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try koersBinary())
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = nil
    env.merge(environment) { _, new in new }
    p.environment = env
    p.standardOutput = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
    p.standardError = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
    let collected = OutputBox()
    let reader = Thread {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(master, &buffer, buffer.count)
            if n <= 0 { break }  // EIO once every writer has closed the slave
            collected.append(buffer[0..<n])
        }
        collected.done.signal()
    }
    try p.run()
    close(slave)
    reader.start()
    p.waitUntilExit()
    _ = collected.done.wait(timeout: .now() + 10)
    close(master)
    return (p.terminationStatus, collected.text.replacingOccurrences(of: "\r\n", with: "\n"))
}

private final class OutputBox: @unchecked Sendable {
    // Proof for Sendable: `data` is guarded by `lock`.
    let lock = NSLock()
    var data = Data()
    let done = DispatchSemaphore(value: 0)
    func append(_ bytes: ArraySlice<UInt8>) { lock.lock(); data.append(contentsOf: bytes); lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}

/// A TCP socket listening on 127.0.0.1:`port`, closed by `close()`.
/// Listens on a loopback port the kernel chooses (so no other test can race for it).
private func listenOnLoopback() throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    guard rc == 0, Glibc.listen(fd, 1) == 0 else { close(fd); throw TestFailure("cannot listen on 127.0.0.1") }
    let named = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    guard named == 0 else { close(fd); throw TestFailure("getsockname failed") }
    return (fd, Int(UInt16(bigEndian: addr.sin_port)))
}

private func check(_ doc: [String: Any], _ name: String) -> [String: Any]? {
    (doc["checks"] as? [[String: Any]])?.first { $0["name"] as? String == name }
}

@Suite("koers doctor")
struct DoctorTests {
    @Test("a secret key readable by others and a key file named for another identity are problems, with the fix")
    func keyProblems() throws {
        let dir = try tempDir("doctor")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keys = dir + "/keys"
        try CurveKeyFile.write(try CurveKeyPair.generate(), identity: "talent", directory: keys)
        try CurveKeyFile.write(try CurveKeyPair.generate(), identity: "work", directory: keys)
        chmod(keys + "/talent.key_secret", 0o644)
        try FileManager.default.copyItem(atPath: keys + "/work.key", toPath: keys + "/wrk.key")
        let port = try ZeroMQ.unusedLoopbackPort()
        let (status, out) = try runKoers(["doctor", "--data", dir + "/data", "--keys", keys, "--ports", String(port), "--json"])
        #expect(status == 1)
        let doc = try json(out)
        #expect(doc["ok"] as? Bool == false)
        let secret = try #require(check(doc, "key talent.key_secret"))
        #expect(secret["status"] as? String == "problem")
        #expect(secret["fix"] as? String == "chmod 600 \(keys)/talent.key_secret")
        let misnamed = try #require(check(doc, "key wrk.key"))
        #expect(misnamed["status"] as? String == "problem")
        #expect((misnamed["message"] as? String)?.contains("holds the key of `work`") == true)
        #expect(check(doc, "key work.key_secret")?["status"] as? String == "ok")
        #expect((check(doc, "libzmq")?["message"] as? String)?.contains(ZeroMQ.versionString) == true)
        #expect(check(doc, "curve")?["status"] as? String == "ok")
        #expect(check(doc, "store")?["status"] as? String == "ok")  // none yet
        #expect(check(doc, "port \(port)")?["status"] as? String == "ok")
        #expect((check(doc, "clock")?["message"] as? String)?.contains("UTC") == true)

        // Fixed as told, nothing is a problem any more.
        chmod(keys + "/talent.key_secret", 0o600)
        try FileManager.default.removeItem(atPath: keys + "/wrk.key")
        let (again, text) = try runKoers(["doctor", "--data", dir + "/data", "--keys", keys, "--ports", String(port)])
        #expect(again == 0, "\(text)")
        #expect(text.contains("no problems"))
    }

    @Test("a port in use is a warning; the store passes or fails quick_check")
    func portAndStore() throws {
        let dir = try tempDir("doctor")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (fd, port) = try listenOnLoopback()
        defer { close(fd) }
        _ = try ReportStore(path: dir + "/data/aggregator/koers.sqlite")
        let (status, out) = try runKoers(["doctor", "--data", dir + "/data", "--keys", dir + "/keys", "--ports", String(port), "--json"])
        #expect(status == 0, "\(out)")
        let doc = try json(out)
        #expect(check(doc, "port \(port)")?["status"] as? String == "warning")
        #expect((check(doc, "port \(port)")?["message"] as? String)?.contains("in use") == true)
        #expect(check(doc, "store")?["status"] as? String == "ok")
        #expect((check(doc, "store")?["message"] as? String)?.contains("integrity_check") == true)

        // A damaged store is a problem.
        let store = dir + "/data/aggregator/koers.sqlite"
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: store + suffix) }
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: store))
        let (bad, badOut) = try runKoers(["doctor", "--data", dir + "/data", "--keys", dir + "/keys", "--ports", String(port), "--json"])
        #expect(bad == 1)
        #expect(check(try json(badOut), "store")?["status"] as? String == "problem")
    }
}

@Suite("koers keys and plan")
struct KeysAndPlanTests {
    @Test("a mistyped theme is refused with the nearest one, and no key is written")
    func mistypedTheme() throws {
        let dir = try tempDir("keys")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (status, out) = try runKoers(["keys", "generate", "wrk", "--dir", dir])
        #expect(status == 1)
        #expect(out.contains("no theme `wrk` in the plan; did you mean `work`?"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/wrk.key"))
        #expect(try runKoers(["keys", "generate", "work", "--dir", dir]).0 == 0)
        #expect(try runKoers(["keys", "generate", "aggregator", "--dir", dir]).0 == 0)
    }

    @Test("operator keys are named operator:NAME, and the identity inside says so")
    func operatorKeys() throws {
        let dir = try tempDir("keys")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (status, out) = try runKoers(["keys", "generate", "operator:anna", "--dir", dir])
        #expect(status == 0, "\(out)")
        #expect(try CurveKeyFile.read(dir + "/operator.anna.key_secret").identity == "operator:anna")
        let (show, shown) = try runKoers(["keys", "show", dir + "/operator.anna.key", "--json"])
        #expect(show == 0)
        let doc = try json(shown)
        #expect(doc["identity"] as? String == "operator:anna")
        #expect(doc["secretKey"] as? String == "absent")
        #expect((doc["publicKey"] as? String)?.count == 40)
        let (bad, badOut) = try runKoers(["keys", "generate", "operator:", "--dir", dir])
        #expect(bad == 1 && badOut.contains("operator:NAME"))
        // A bare `operator` would get no operator's role from the aggregator.
        let (bare, bareOut) = try runKoers(["keys", "generate", "operator", "--dir", dir])
        #expect(bare == 1 && bareOut.contains("operator:NAME"))
    }

    @Test("plan check and plan history --json")
    func planJSON() throws {
        let (status, out) = try runKoers(["plan", "check", "--json"])
        #expect(status == 0)
        let doc = try json(out)
        #expect(doc["valid"] as? Bool == true)
        let summary = try #require(doc["summary"] as? [String: Any])
        #expect((summary["themes"] as? [[String: Any]])?.map { $0["id"] as? String } == plan.themes.map(\.id))

        let file = NSTemporaryDirectory() + "koers-plan-\(UUID().uuidString).yaml"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "version: 1\nprogramme: {}\n".write(toFile: file, atomically: true, encoding: .utf8)
        let (bad, badOut) = try runKoers(["plan", "check", file, "--json"])
        #expect(bad == 1)
        let badDoc = try json(badOut)
        #expect(badDoc["valid"] as? Bool == false)
        #expect(((badDoc["problems"] as? [[String: Any]])?.first?["line"] as? Int) != nil)

        let (h, history) = try runKoers(["plan", "history", "--json"])
        #expect(h == 0)
        #expect(try json(history)["version"] as? Int == plan.version)
    }
}

@Suite("koers import")
struct ImportCommandTests {
    @Test("a missing file says so")
    func missingFile() throws {
        let dir = try tempDir("import")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (status, out) = try runKoers(["import", "safety", dir + "/nope.csv", "--data", dir + "/data"])
        #expect(status == 1)
        #expect(out.contains("no such file: \(dir)/nope.csv"), "\(out)")
        #expect(!out.contains("empty"))
    }

    @Test("a row with the wrong number of fields does not hide the other bad rows")
    func everyBadRow() throws {
        let dir = try tempDir("import")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/rows.csv"
        try """
            kind,item,value,as_of,period_start,period_end,note
            milestone,vc-haalbaarheid,1,2022-09-15,,,ok
            milestone,vc-haalbaarheid,1
            milestone,vc-haalbaarheid,7,2022-09-15,,,bad value
            milestone,vc-haalbarheid,1,2022-09-15,,,typo
            milestone,vc-intentieovereenkomst,1,2022-12-12,,,ok,extra
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let (status, out) = try runKoers(["import", "safety", file, "--data", dir + "/data"])
        #expect(status == 1)
        for row in 3...6 { #expect(out.contains("\(file):\(row): "), "row \(row) missing from: \(out)") }
        #expect(out.contains("\(file):3: has 3 fields; the header has 7"))
        #expect(out.contains("\(file):6: has 8 fields; the header has 7"))
        #expect(out.contains("4 problems"))

        // The library says the same, in file order.
        let importer = Importer(checker: ReportChecker(plan: plan, plugin: ThemeRegistry.plugin(for: "safety")))
        do {
            _ = try importer.importFile(file, into: try tempOutbox(), reporter: nil, now: clockNow)
            Issue.record("a bad file was imported")
        } catch let e as ImportError {
            #expect(e.problems.compactMap(\.row) == [3, 4, 5, 6])
        }
    }

    @Test("an empty file is empty, not missing")
    func emptyFile() throws {
        let file = NSTemporaryDirectory() + "koers-import-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "".write(toFile: file, atomically: true, encoding: .utf8)
        let importer = Importer(checker: ReportChecker(plan: plan, plugin: ThemeRegistry.plugin(for: "safety")))
        #expect { try importer.importFile(file, into: try tempOutbox(), reporter: nil, now: clockNow) } throws: {
            ($0 as? ImportError)?.description.contains("the file is empty") == true
        }
    }
}

@Suite("koers demo", .serialized)
struct DemoOutputTests {
    @Test("piped: ends on 2025-12-31, no colour, durations in words")
    func piped() async throws {
        let dir = try tempDir("demo")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (status, out) = try await bounded(180, "the demo") { try runKoers(["demo", "--seconds", "60", "--dir", dir]) }
        #expect(status == 0, "\(out.suffix(2000))")
        #expect(out.contains("→ 2025-12-31"))
        #expect(out.contains("(about 60 s)"))
        #expect(out.contains("the status in a browser: http://127.0.0.1:"))
        #expect(out.contains("Nationaal Programma Heerlen-Noord — 2025-12-31,"), "\(out.suffix(3000))")
        // No line of the scenario is dated after its end (a forecast may name a later date).
        #expect(out.range(of: "(?m)^2026-", options: .regularExpression) == nil)
        #expect(!out.contains("\u{1B}["))
        #expect(out.range(of: "(?<![0-9.])1 days", options: .regularExpression) == nil)
        #expect(!out.contains("more than P1D"))
    }

    @Test("on a terminal: colour unless NO_COLOR, lines broken between words to the width")
    func terminal() async throws {
        let dir = try tempDir("demo")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["demo", "--seconds", "8", "--quiet", "--dir", dir]
        let (status, out) = try await bounded(90, "the demo") { try runKoersOnTerminal(args, environment: ["COLUMNS": "60"]) }
        #expect(status == 0 || status == 1, "\(out.suffix(2000))")  // the fast clock may miss a scripted state
        #expect(out.contains("\u{1B}["))
        let visible = out.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
        for line in visible.split(separator: "\n") where line.count > 60 {
            #expect(!line.trimmingCharacters(in: .whitespaces).contains(" "), "a line longer than the terminal: \(line)")
        }
        #expect(visible.contains("Open alerts"))

        let (_, plain) = try await bounded(90, "the demo") { try runKoersOnTerminal(args, environment: ["NO_COLOR": "1", "COLUMNS": "60"]) }
        #expect(!plain.contains("\u{1B}["))
        #expect(plain.contains("Open alerts"))
    }
}
