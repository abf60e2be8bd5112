import ArgumentParser
import Foundation
import Plan
import Yams

// `--config FILE` and `--print-config` for commands an operator runs as a service.
//
// The file is turned into arguments before anything is parsed, so the argument parser
// stays the one judge of every value, and the keys the file accepts are the command's
// own long flag names, read from the parser's description of the command (the ToolInfo
// document behind `--experimental-dump-help`). A flag added to the command is a key of
// the file at once; there is no second list to keep up to date.

/// The commands that take `--config` and `--print-config` (each declares `ConfigOptions`).
let configurableCommands: [(path: [String], command: any ParsableCommand.Type)] = [
    (["aggregator", "run"], AggregatorCommand.Run.self),
]

/// `--config` and `--print-config`: read by `ConfigFile.prepare` before parsing; declared
/// here so that the parser accepts them and `--help` lists them.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A YAML file of this command's flags by long name (`http: 127.0.0.1:7480`); flags on the command line win. ${VAR} is replaced by the environment variable VAR.", valueName: "file"))
    var config: String?

    @Flag(name: .long, help: "Print the effective configuration (defaults, then --config, then the flags) as YAML that --config reads back, and exit.")
    var printConfig = false
}

/// An error in a configuration file, with where it is.
struct ConfigError: Error, CustomStringConvertible {
    var file: String
    var line: Int?
    var message: String
    var description: String { line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)" }
}

/// What the argument parser says about one argument of a command (a part of ToolInfoV0).
struct ArgumentSpec: Decodable {
    struct Name: Decodable { var kind: String; var name: String }
    var kind: String  // option, flag, positional
    var names: [Name]?
    var isRepeating: Bool
    var defaultValue: String?
    var parsingStrategy: String?

    var long: String? { names?.first { $0.kind == "long" }?.name }
    var isFlag: Bool { kind == "flag" }
}

/// A command's named arguments, by long name.
struct CommandSpec {
    /// Every named argument, for reading a command line.
    let all: [ArgumentSpec]
    /// The ones a configuration file may set, in the order the command declares them.
    let settable: [ArgumentSpec]

    /// Names only the command line may give.
    static let commandLineOnly: Set<String> = ["help", "version", "config", "print-config", "experimental-dump-help"]

    init(_ command: any ParsableCommand.Type) throws {
        struct Dump: Decodable {
            struct Command: Decodable { var arguments: [ArgumentSpec]? }
            var command: Command
        }
        let dump = try JSONDecoder().decode(Dump.self, from: Data(command._dumpHelp().utf8))
        all = (dump.command.arguments ?? []).filter { $0.kind != "positional" }
        settable = all.filter { $0.long.map { !Self.commandLineOnly.contains($0) } ?? false }
    }

    func settable(_ key: String) -> ArgumentSpec? { settable.first { $0.long == key } }
    var keys: Set<String> { Set(settable.compactMap(\.long)) }

    /// The argument a command-line word names (`--http`, `--http=…`, `-h`), if any.
    func named(_ word: String) -> (spec: ArgumentSpec, attached: String?)? {
        if word.hasPrefix("--") {
            let body = word.dropFirst(2)
            let name = body.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let attached = name.count == 2 ? String(name[1]) : nil
            return all.first { $0.names?.contains { $0.kind == "long" && $0.name == name[0] } == true }.map { ($0, attached) }
        }
        if word.hasPrefix("-"), word.count == 2 {
            return all.first { $0.names?.contains { $0.kind == "short" && "-" + $0.name == word } == true }.map { ($0, nil) }
        }
        return nil
    }
}

/// A setting's value: a flag's, one option value, or a repeatable option's list.
enum ConfigValue: Equatable {
    case flag(Bool)
    case one(String)
    case many([String])

    func arguments(_ key: String) -> [String] {
        switch self {
        case .flag(let on): return on ? ["--\(key)"] : []
        case .one(let v): return ["--\(key)=\(v)"]
        case .many(let vs): return vs.map { "--\(key)=\($0)" }
        }
    }
}

/// One key of a configuration file: its value with `${VAR}` replaced, and as written.
struct FileSetting {
    var key: String
    var line: Int
    var value: ConfigValue
    var written: ConfigValue
}

enum ConfigFile {
    /// Reads a configuration file against a command's arguments.
    static func read(_ path: String, spec: CommandSpec, environment: [String: String]) throws(ConfigError) -> [FileSetting] {
        func fail(_ line: Int?, _ message: String) -> ConfigError { ConfigError(file: path, line: line, message: message) }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw fail(nil, "cannot read the configuration file: \((error as NSError).localizedDescription)")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw fail(nil, "not YAML: \(error)")
        }
        guard let root else { return [] }
        guard case .mapping(let mapping) = root else {
            throw fail(root.mark?.line, "the file is a mapping of flag names to values, e.g. `http: 127.0.0.1:7480`")
        }
        var settings: [FileSetting] = []
        var seen: [String: Int] = [:]
        for (keyNode, valueNode) in mapping {
            let line = keyNode.mark?.line ?? 0
            guard case .scalar(let keyScalar) = keyNode else { throw fail(line, "a key is a flag's long name, e.g. `http`") }
            let key = keyScalar.string
            if let first = seen[key] { throw fail(line, "`\(key)` is set twice (first on line \(first))") }
            seen[key] = line
            guard let arg = spec.settable(key) else {
                if CommandSpec.commandLineOnly.contains(key) { throw fail(line, "`\(key)` belongs on the command line, not in the file") }
                let stripped = key.hasPrefix("-") ? String(key.drop { $0 == "-" }) : key
                if spec.settable(stripped) != nil { throw fail(line, "unknown key `\(key)`: write the flag's name without dashes, `\(stripped)`") }
                let hint = closest(stripped, among: spec.keys).map { "; did you mean `\($0)`?" } ?? " (`koers … --help` lists the flags; each long flag is a key)"
                throw fail(line, "unknown key `\(key)`\(hint)")
            }
            func expanded(_ s: Node.Scalar) throws(ConfigError) -> String {
                try expand(s.string, environment: environment, file: path, line: s.mark?.line ?? line, key: key)
            }
            if case .scalar(let s) = valueNode, s.style == .plain, ["", "~", "null", "Null", "NULL"].contains(s.string) {
                continue  // `plan:` or `plan: null`: not set, as if absent
            }
            let value: ConfigValue, written: ConfigValue
            switch (valueNode, arg.isFlag, arg.isRepeating) {
            case (.scalar(let s), true, _):
                let text = try expanded(s)
                guard let on = ["true": true, "false": false][text.lowercased()] else {
                    throw fail(line, "`\(key)` is a flag: write `\(key): true` or `\(key): false`, not `\(text)`")
                }
                (value, written) = (.flag(on), .flag(on))
            case (_, true, _):
                throw fail(line, "`\(key)` is a flag: write `\(key): true` or `\(key): false`, not a \(kind(valueNode))")
            case (.scalar(let s), false, false):
                (value, written) = (.one(try expanded(s)), .one(s.string))
            case (.scalar(let s), false, true):
                (value, written) = (.many([try expanded(s)]), .many([s.string]))
            case (.sequence(let items), false, true):
                var values: [String] = [], raw: [String] = []
                for item in items {
                    guard case .scalar(let s) = item else {
                        throw fail(item.mark?.line ?? line, "each value of `\(key)` is one text, not a \(kind(item))")
                    }
                    values.append(try expanded(s))
                    raw.append(s.string)
                }
                (value, written) = (.many(values), .many(raw))
            case (_, false, false):
                throw fail(line, "`\(key)` takes one value, not a \(kind(valueNode))")
            case (_, false, true):
                throw fail(line, "`\(key)` takes a list of values (`\(key): [A, B]`), not a \(kind(valueNode))")
            }
            settings.append(FileSetting(key: key, line: line, value: value, written: written))
        }
        return settings
    }

    static func kind(_ node: Node) -> String {
        switch node {
        case .scalar: "text"
        case .sequence: "list"
        case .mapping: "mapping"
        case .alias: "alias"
        }
    }

    /// Replaces each `${NAME}` by the environment variable NAME; `$${` is a literal `${`.
    static func expand(_ text: String, environment: [String: String], file: String, line: Int, key: String) throws(ConfigError) -> String {
        guard text.contains("${") else { return text }
        var out = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            out += rest[..<dollar]
            let after = rest[dollar...]
            if after.hasPrefix("$${") {
                out += "${"
                rest = after.dropFirst(3)
            } else if after.hasPrefix("${") {
                guard let close = after.firstIndex(of: "}") else {
                    throw ConfigError(file: file, line: line, message: "`\(key)`: `${` without its `}`")
                }
                let name = String(after[after.index(after.startIndex, offsetBy: 2)..<close])
                guard let first = name.unicodeScalars.first, first == "_" || CharacterSet.letters.contains(first),
                      name.unicodeScalars.allSatisfy({ $0 == "_" || CharacterSet.alphanumerics.contains($0) && $0.isASCII }) else {
                    throw ConfigError(file: file, line: line, message: "`\(key)`: `${\(name)}` is not an environment variable's name")
                }
                guard let value = environment[name] else {
                    throw ConfigError(file: file, line: line, message: "`\(key)` uses the environment variable \(name), which is not set (a systemd unit sets it with EnvironmentFile=)")
                }
                out += value
                rest = after[after.index(after: close)...]
            } else {
                out += "$"
                rest = after.dropFirst()
            }
        }
        return out + rest
    }

    /// What the command line sets, by long name, and its values (in the order given).
    static func commandLine(_ arguments: [String], spec: CommandSpec) -> [(key: String, value: ConfigValue)] {
        var found: [(key: String, value: ConfigValue)] = []
        func record(_ key: String, _ value: ConfigValue) {
            if let i = found.firstIndex(where: { $0.key == key }) {
                if case .many(let old) = found[i].value, case .many(let new) = value { found[i].value = .many(old + new) } else { found[i].value = value }
            } else { found.append((key, value)) }
        }
        var i = 0
        while i < arguments.count {
            let word = arguments[i]
            i += 1
            if word == "--" { break }
            guard let (arg, attached) = spec.named(word), let key = arg.long else { continue }
            if arg.isFlag { record(key, .flag(true)); continue }
            var values: [String] = []
            if let attached { values.append(attached) } else if i < arguments.count { values.append(arguments[i]); i += 1 }
            if arg.parsingStrategy == "upToNextOption" {
                while i < arguments.count, !arguments[i].hasPrefix("-") { values.append(arguments[i]); i += 1 }
            }
            record(key, arg.isRepeating ? .many(values) : .one(values.last ?? ""))
        }
        return found
    }

    /// The arguments to parse: the file's settings the command line does not give,
    /// then the command line. Prints the effective configuration for `--print-config`
    /// and exits.
    static func prepare(_ arguments: [String]) -> [String] {
        guard let (path, command) = configurableCommands.first(where: { arguments.starts(with: $0.path) }) else { return arguments }
        let rest = Array(arguments.dropFirst(path.count))
        let spec: CommandSpec
        do { spec = try CommandSpec(command) } catch {
            // The parser's description of the command did not read: parse without a file
            // (the parser still rejects what it does not know).
            printError("Error: cannot read the arguments of `koers \(path.joined(separator: " "))`: \(error)")
            Koers.exit(withError: ExitCode(70))
        }
        let given = commandLine(rest, spec: spec)
        let file = given.last { $0.key == "config" }.flatMap { if case .one(let f) = $0.value { f } else { nil } }
        let printing = given.contains { $0.key == "print-config" }
        guard file != nil || printing else { return arguments }
        var settings: [FileSetting] = []
        if let file {
            do { settings = try read(file, spec: spec, environment: ProcessInfo.processInfo.environment) } catch {
                printError("Error: \(error)")
                Koers.exit(withError: ExitCode.validationFailure)
            }
        }
        let onCommandLine = Set(given.map(\.key))
        let fromFile = settings.filter { !onCommandLine.contains($0.key) }.flatMap { $0.value.arguments($0.key) }
        let prepared = path + fromFile + rest
        guard printing else { return prepared }
        do { _ = try Koers.parseAsRoot(prepared) } catch { Koers.exit(withError: error) }
        print(effective(spec: spec, file: file, settings: settings, given: given, command: path), terminator: "")
        Koers.exit()
    }

    /// The effective configuration as YAML: each settable flag in the command's order,
    /// with a comment saying where its value came from.
    static func effective(spec: CommandSpec, file: String?, settings: [FileSetting],
                          given: [(key: String, value: ConfigValue)], command: [String]) -> String {
        var lines: [(text: String, origin: String?)] = []
        for arg in spec.settable {
            guard let key = arg.long else { continue }
            if let v = given.first(where: { $0.key == key })?.value {
                lines.append(("\(key): \(yaml(v))", "from the command line"))
            } else if let s = settings.first(where: { $0.key == key }) {
                lines.append(("\(key): \(yaml(s.written))", "from \(file ?? "the file")"))
            } else if arg.isFlag {
                lines.append(("\(key): false", "default"))
            } else if arg.isRepeating {
                lines.append(("\(key): \(yaml(.many(arg.defaultValue.map { $0.isEmpty ? [] : [$0] } ?? [])))", "default"))
            } else if let d = arg.defaultValue {
                lines.append(("\(key): \(yaml(.one(d)))", "default"))
            } else {
                lines.append(("# \(key): (not set)", nil))
            }
        }
        let width = min(48, lines.filter { $0.origin != nil }.map(\.text.count).max() ?? 0)
        var out = "# The effective configuration of `koers \(command.joined(separator: " "))`: defaults, then "
        out += (file.map { "\($0), then " } ?? "") + "the command line.\n"
        out += "# `koers \(command.joined(separator: " ")) --config FILE` reads it back.\n"
        for (text, origin) in lines {
            guard let origin else { out += text + "\n"; continue }
            out += text + String(repeating: " ", count: max(0, width - text.count)) + "  # " + origin + "\n"
        }
        return out
    }

    static func yaml(_ value: ConfigValue) -> String {
        switch value {
        case .flag(let on): on ? "true" : "false"
        case .one(let v): scalar(v)
        case .many(let vs): "[" + vs.map(scalar).joined(separator: ", ") + "]"
        }
    }

    /// A text as a YAML scalar that reads back as the same text: plain when that is
    /// unambiguous, double-quoted otherwise.
    static func scalar(_ s: String) -> String {
        let first = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./+=")
        let rest = first.union(":-@%")
        if let c = s.first, first.contains(c), s.allSatisfy(rest.contains), !s.hasSuffix(":"),
           !["null", "Null", "NULL"].contains(s) {
            return s
        }
        return JSONLogHandler.jsonString(s)  // a JSON string is a YAML double-quoted scalar
    }
}
