import Foundation
import Testing

/// A configuration file with `text` in a fresh directory; its path.
private func configFile(_ text: String, name: String = "koers.yaml") throws -> String {
    let dir = NSTemporaryDirectory() + "koers-config-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let path = dir + "/" + name
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// `koers aggregator run --print-config ARGS`, which must succeed: what it printed.
private func printConfig(_ args: [String], environment: [String: String] = [:]) throws -> String {
    let (status, out) = try runKoers(["aggregator", "run", "--print-config"] + args, environment: environment)
    guard status == 0 else { throw TestFailure("--print-config failed (\(status)): \(out)") }
    return out
}

/// The line of a printed configuration that sets `key`.
private func setting(_ out: String, _ key: String) -> String? {
    out.split(separator: "\n").map(String.init).first { $0.hasPrefix(key + ":") }
}

/// The printed configuration without its comments: the values only.
private func values(_ out: String) -> [String] {
    out.split(separator: "\n").compactMap { line -> String? in
        guard !line.hasPrefix("#") else { return nil }
        return line.range(of: "  # ").map { String(line[..<$0.lowerBound]).trimmingCharacters(in: .whitespaces) } ?? String(line)
    }
}

/// The first repeatable option of `aggregator run`, from the parser's own description
/// (`--alertmanager` and `--webhook` are being added), or nil while it has none.
private let repeatableOption: String? = {
    guard let (status, out) = try? runKoers(["aggregator", "run", "--experimental-dump-help"], environment: [:]), status == 0,
          let doc = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any],
          let args = (doc["command"] as? [String: Any])?["arguments"] as? [[String: Any]] else { return nil }
    return args.first { $0["kind"] as? String == "option" && $0["isRepeating"] as? Bool == true }
        .flatMap { ($0["names"] as? [[String: Any]])?.first { $0["kind"] as? String == "long" }?["name"] as? String }
}()

@Suite("koers aggregator run --config")
struct ConfigTests {
    @Test("the file's values apply: an aggregator configured by file logs JSON, one object per line")
    func fileAppliesAndJSONLogs() async throws {
        let ws = try Workspace()
        let file = try configFile("log-format: json\nno-item-metrics: true\n")
        let log = ws.dir + "/aggregator.log"
        try await bounded(120, "the aggregator") {
            let aggregator = try ws.aggregator(["--config", file])
            defer { aggregator.stop() }
            try eventually("the aggregator listens", within: 90) {
                let text = try String(contentsOfFile: log, encoding: .utf8)
                return text.contains("ingest listening") && text.contains("stream listening")
            }
        }
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count >= 3)
        var messages: [String] = []
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let o = try #require(object, "not a JSON object: \(line)")
            let timestamp = try #require(o["timestamp"] as? String, "\(line)")
            #expect(ISO8601DateFormatter.withFractionalSeconds.date(from: timestamp) != nil, "\(timestamp)")
            #expect(["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(o["level"] as? String ?? ""), "\(line)")
            #expect(o["label"] is String, "\(line)")
            messages.append(try #require(o["message"] as? String, "\(line)"))
            if o["message"] as? String == "ingest listening" {
                #expect(o["endpoint"] as? String == ws.endpoint, "metadata as fields: \(line)")
            }
            if o["message"] as? String == "configuration read" { #expect(o["file"] as? String == file) }
        }
        #expect(messages.contains("configuration read"))
        #expect(messages.contains { $0.hasPrefix("aggregator stopped") }, "\(messages)")
    }

    @Test("a flag on the command line overrides the file; each value says where it came from")
    func flagOverridesFile() throws {
        let file = try configFile("http: 127.0.0.1:1111\ningest: tcp://127.0.0.1:9401\nplain: true\n")
        let out = try printConfig(["--config", file, "--http", "127.0.0.1:2222"])
        #expect(setting(out, "http")?.hasPrefix("http: 127.0.0.1:2222") == true, "\(out)")
        #expect(setting(out, "http")?.hasSuffix("# from the command line") == true, "\(out)")
        #expect(setting(out, "ingest")?.hasPrefix("ingest: tcp://127.0.0.1:9401") == true, "\(out)")
        #expect(setting(out, "ingest")?.hasSuffix("# from \(file)") == true, "\(out)")
        #expect(setting(out, "plain")?.hasPrefix("plain: true") == true, "\(out)")
        #expect(setting(out, "snapshot")?.hasPrefix("snapshot: tcp://127.0.0.1:7403") == true, "\(out)")
        #expect(setting(out, "snapshot")?.hasSuffix("# default") == true, "\(out)")
        // Every option group's flags are keys too.
        for key in ["keys", "data", "clock-speed", "log-format", "no-item-metrics", "silence-grace"] {
            #expect(setting(out, key) != nil, "\(key) missing from \(out)")
        }
        #expect(out.contains("# plan: (not set)"), "\(out)")
        #expect(setting(out, "config") == nil && setting(out, "print-config") == nil && setting(out, "help") == nil)
    }

    @Test("a repeatable option on the command line replaces the file's list",
          .enabled(if: repeatableOption != nil, "aggregator run has no repeatable option yet"))
    func repeatableReplaced() throws {
        let key = try #require(repeatableOption)
        let file = try configFile("\(key): [http://127.0.0.1:9093/a, http://127.0.0.1:9093/b]\n")
        let fromFile = try printConfig(["--config", file])
        #expect(setting(fromFile, key)?.hasPrefix("\(key): [http://127.0.0.1:9093/a, http://127.0.0.1:9093/b]") == true, "\(fromFile)")
        let replaced = try printConfig(["--config", file, "--\(key)", "http://127.0.0.1:9093/c"])
        #expect(setting(replaced, key)?.hasPrefix("\(key): [http://127.0.0.1:9093/c]") == true, "\(replaced)")
        #expect(setting(replaced, key)?.hasSuffix("# from the command line") == true, "\(replaced)")
        // One value where a list is expected is a list of one.
        let one = try printConfig(["--config", try configFile("\(key): http://127.0.0.1:9093/d\n")])
        #expect(setting(one, key)?.hasPrefix("\(key): [http://127.0.0.1:9093/d]") == true, "\(one)")
    }

    @Test("an unknown key names the file, the line and the key, and the nearest key")
    func unknownKey() throws {
        let file = try configFile("# the aggregator\ndata: /tmp/x\nhtp: 127.0.0.1:7480\n")
        let (status, out) = try runKoers(["aggregator", "run", "--config", file], environment: [:])
        #expect(status != 0)
        #expect(out.contains("\(file):3: unknown key `htp`; did you mean `http`?"), "\(out)")
        let (_, dashed) = try runKoers(["aggregator", "run", "--print-config", "--config", try configFile("--http: x\n")], environment: [:])
        #expect(dashed.contains("without dashes, `http`"), "\(dashed)")
        let (_, far) = try runKoers(["aggregator", "run", "--config", try configFile("colour-scheme: dark\n")], environment: [:])
        #expect(far.contains(":1: unknown key `colour-scheme`") && !far.contains("did you mean"), "\(far)")
    }

    @Test("a value of the wrong type is a clear error")
    func wrongType() throws {
        let cases: [(String, String)] = [
            ("http: [127.0.0.1:1, 127.0.0.1:2]\n", ":1: `http` takes one value, not a list"),
            ("data: data\nplain: please\n", ":2: `plain` is a flag: write `plain: true` or `plain: false`, not `please`"),
            ("plain: [true]\n", ":1: `plain` is a flag: write `plain: true` or `plain: false`, not a list"),
            ("keys: {dir: keys}\n", ":1: `keys` takes one value, not a mapping"),
            ("http: a\nhttp: b\n", ": not YAML: Parser: expected all keys to be unique but found the following duplicated key(s): 'http'"),
            ("- http\n", ":1: the file is a mapping of flag names to values"),
        ]
        for (text, expected) in cases {
            let file = try configFile(text)
            let (status, out) = try runKoers(["aggregator", "run", "--print-config", "--config", file], environment: [:])
            #expect(status != 0, "\(text)")
            #expect(out.contains(file + expected), "\(text) → \(out)")
        }
        // The parser still judges each value: a file's value is one more argument.
        let (status, out) = try runKoers(["aggregator", "run", "--print-config", "--config", try configFile("clock-speed: fast\n")], environment: [:])
        #expect(status != 0)
        #expect(out.contains("fast") && out.contains("clock-speed"), "\(out)")
    }

    @Test("${VAR} is the environment variable; an unset one is an error that names it")
    func environmentVariables() throws {
        let file = try configFile("data: /tmp/koers\nhttp: ${KOERS_TEST_HTTP}\n")
        // The value is the variable's: a bad one is refused as --http would refuse it.
        let (bad, badOut) = try runKoers(["aggregator", "run", "--print-config", "--config", file], environment: ["KOERS_TEST_HTTP": "nowhere"])
        #expect(bad != 0)
        #expect(badOut.contains("`nowhere` has no port"), "\(badOut)")
        // --print-config shows the reference as written, never the value (a secret stays out of tickets).
        let out = try printConfig(["--config", file], environment: ["KOERS_TEST_HTTP": "127.0.0.1:7999"])
        #expect(setting(out, "http")?.hasPrefix("http: \"${KOERS_TEST_HTTP}\"") == true, "\(out)")
        #expect(!out.contains("7999"))
        let (unset, unsetOut) = try runKoers(["aggregator", "run", "--config", file], environment: [:])
        #expect(unset != 0)
        #expect(unsetOut.contains("\(file):2: `http` uses the environment variable KOERS_TEST_HTTP, which is not set"), "\(unsetOut)")
        // $${ is a literal ${.
        let literal = try printConfig(["--config", try configFile("data: \"/srv/$${x}\"\n")])
        #expect(setting(literal, "data")?.hasPrefix("data: \"/srv/$${x}\"") == true, "\(literal)")
    }

    @Test("--print-config reads back unchanged")
    func printConfigRoundTrips() throws {
        let file = try configFile("""
            keys: /etc/koers/keys
            data: "/var/lib/koers/data with space"
            plan: plans/nphln.yaml
            ingest: tcp://0.0.0.0:7401
            no-item-metrics: true
            clock-speed: 2.5
            log-format: json
            """)
        let first = try printConfig(["--config", file, "--http", "none", "--plain"])
        let dir = URL(fileURLWithPath: file).deletingLastPathComponent().path
        let printed = dir + "/effective.yaml"
        try first.write(toFile: printed, atomically: true, encoding: .utf8)
        let second = try printConfig(["--config", printed])
        #expect(values(first) == values(second), "\(first)\n---\n\(second)")
        #expect(setting(second, "http")?.hasPrefix("http: none") == true)
        #expect(setting(second, "data")?.hasPrefix("data: \"/var/lib/koers/data with space\"") == true, "\(second)")
        // Printed from its own output, it is the same text, comments and all.
        try second.write(toFile: printed, atomically: true, encoding: .utf8)
        let third = try printConfig(["--config", printed])
        #expect(second == third)
    }

    @Test("the example docs/systemd/koers.yaml is accepted")
    func exampleConfiguration() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let out = try printConfig(["--config", root.appendingPathComponent("docs/systemd/koers.yaml").path])
        #expect(setting(out, "keys")?.hasPrefix("keys: /etc/koers/keys") == true, "\(out)")
        #expect(setting(out, "log-format")?.hasPrefix("log-format: json") == true, "\(out)")
    }
}

extension ISO8601DateFormatter {
    static var withFractionalSeconds: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }
}
