import ArgumentParser
import Foundation
import HTTPServer
import Plan
import ZeroMQ

/// `koers keys`: CURVE key pairs for theme services, the aggregator and operators.
struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate and inspect CURVE key pairs.",
        subcommands: [Generate.self, Show.self, Token.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new key pair as NAME.key (public) and NAME.key_secret (mode 0600).",
            discussion: """
                NAME is a theme of the plan, `aggregator`, or `operator:NAME` for an operator \
                (e.g. `operator:anna`, written operator.anna.key). A name that is none \
                of these is refused, with the nearest theme: a key for a mistyped theme would \
                never be allowed to publish.
                """)

        @Argument(help: "The identity the key authenticates as: a theme id, `aggregator` or `operator:NAME`.")
        var name: String

        @Option(name: .long, help: "Directory to write the key files to.")
        var dir: String = "keys"

        @Option(name: .long, help: "The plan file (YAML) whose themes are checked. Default: the built-in plan.")
        var plan: String?

        @Flag(name: .long, help: "Replace existing key files (key rotation).")
        var force = false

        func run() throws {
            let p: Plan
            do { p = try PlanLoader.loadDefault(path: plan) } catch {
                printError(error.description)
                throw ExitCode(1)
            }
            if let refusal = KeyIdentity.refusal(for: name, themes: p.themes.map(\.id)) {
                printError(refusal)
                throw ExitCode(1)
            }
            let pair = try CurveKeyPair.generate()
            let paths = try CurveKeyFile.write(pair, identity: name, directory: dir, overwrite: force)
            print("public key  \(pair.publicKey.z85)")
            print("wrote       \(paths.publicPath)   (share: copy to the aggregator's keys directory)")
            print("wrote       \(paths.secretPath)   (secret: stays on this host)")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the identity and public key in a key file, after checking it.")

        @Argument(help: "A .key or .key_secret file.")
        var file: String

        @Flag(name: .long, help: "One JSON document: file, identity, public key, whether the secret key is present.")
        var json = false

        func run() throws {
            let key: CurveKeyFile
            do { key = try CurveKeyFile.read(file) } catch {
                if json {
                    printJSON(["file": file, "error": error.message])
                } else {
                    printError(error.message)
                }
                throw ExitCode(1)
            }
            if json {
                printJSON(["file": file, "identity": key.identity, "publicKey": key.publicKey.z85,
                           "secretKey": key.secretKey == nil ? "absent" : "present"] as [String: Any])
                return
            }
            print("identity    \(key.identity)")
            print("public key  \(key.publicKey.z85)")
            print("secret key  \(key.secretKey == nil ? "absent" : "present, matches the public key")")
        }
    }
}

extension Keys {
    /// `koers keys token operator:NAME`: a bearer token for the aggregator's HTTP API.
    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make an operator's HTTP API token: printed once, its SHA-256 written into KEYS/operator.NAME.key.",
            discussion: """
                The token (32 random bytes, base64url) is printed once and kept nowhere: store it where the operator's \
                tools read it. The public key file gets `http-token-sha256 = "…"`; give that file to the aggregator's \
                keys directory and send it SIGHUP. Running this again replaces the token (the old one stops working \
                after the aggregator's next reload). The key's `themes` scope applies to HTTP acknowledgements too.
                """)

        @Argument(help: "The operator: `operator:NAME`.")
        var name: String

        @Option(name: .long, help: "The directory holding operator.NAME.key (the aggregator's keys directory, or a copy).")
        var keys: String = "keys"

        func run() throws {
            guard name.hasPrefix(KeyIdentity.operatorPrefix), CurveKeyFile.isValidIdentity(name) else {
                printError("an HTTP token belongs to an operator: `operator:NAME`, not `\(name)`")
                throw ExitCode(1)
            }
            let path = (keys as NSString).appendingPathComponent("\(CurveKeyFile.fileStem(for: name)).key")
            var file: CurveKeyFile
            do { file = try CurveKeyFile.read(path) } catch {
                printError("\(error.message) (make the key first: `koers keys generate \(name) --dir \(keys)`)")
                throw ExitCode(1)
            }
            guard file.identity == name, file.secretKey == nil else {
                printError("\(path) is not \(name)'s public key file")
                throw ExitCode(1)
            }
            let (token, hash) = HTTPToken.generate()
            file.httpTokenSHA256 = hash
            do { try file.render().write(toFile: path, atomically: true, encoding: .utf8) } catch {
                printError("cannot write \(path): \(error.localizedDescription)")
                throw ExitCode(1)
            }
            print(token)
            printError("wrote the token's SHA-256 into \(path); the token above is shown only this once. "
                + "Copy the file to the aggregator's keys directory and send it SIGHUP; use `Authorization: Bearer TOKEN`.")
        }
    }
}

/// Which identities a key may be generated for.
enum KeyIdentity {
    /// The operator prefix: operator identities are `operator:NAME`.
    static let operatorPrefix = "operator:"

    /// Nil when `name` is a theme of the plan, `aggregator` or `operator:NAME`; otherwise
    /// the sentence that refuses it. A bare `operator` is refused: the aggregator gives
    /// the operator's role to `operator:NAME` keys only (docs/protocol.md §1.1).
    static func refusal(for name: String, themes: [String]) -> String? {
        if themes.contains(name) || name == "aggregator" { return nil }
        if name == "operator" { return "an operator key is named `operator:NAME` (e.g. `operator:anna`), so that every acknowledgement says whose it was" }
        if name.hasPrefix(operatorPrefix) {
            let who = name.dropFirst(operatorPrefix.count)
            guard !who.isEmpty, who.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                return "an operator key is named `operator:NAME`, NAME being letters, digits, `-`, `_` or `.` (e.g. `operator:anna`), not `\(name)`"
            }
            return nil
        }
        if name.lowercased().hasPrefix("operator") || editDistance(name.lowercased(), "operator") <= 2 {
            return "no theme `\(name)` in the plan; did you mean `operator:NAME` (an operator's key, e.g. `operator:anna`)?"
        }
        let candidates = themes + ["aggregator"]
        let scored = candidates.map { ($0, editDistance(name.lowercased(), $0)) }.filter { $0.1 <= max(2, name.count / 2) }
        if let best = scored.min(by: { ($0.1, $0.0) < ($1.1, $1.0) }) {
            return "no theme `\(name)` in the plan; did you mean `\(best.0)`?"
        }
        return "no theme `\(name)` in the plan; the plan's themes are \(themes.map { "`\($0)`" }.joined(separator: ", ")); "
            + "other keys are `aggregator` and `operator:NAME`"
    }
}

/// Prints a JSON document (keys sorted) on standard output.
func printJSON(_ object: Any) {
    guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else {
        printError("internal error: cannot encode JSON")
        return
    }
    print(String(decoding: data, as: UTF8.self))
}
