import Foundation

/// CURVE keys on disk, in files a person can read, copy and check.
///
/// A key pair is two files named after its identity: `IDENTITY.key` holds the public
/// key and may be copied anywhere (the aggregator's trusted-keys directory, say);
/// `IDENTITY.key_secret` also holds the secret key and is written with mode 0600.
///
/// ```text
/// # Koers CURVE public key. Copy this file to the aggregator's keys directory.
/// identity = "talent"
/// public-key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
/// ```
///
/// Lines are `name = "value"`; `#` starts a comment; blank lines are ignored.
public struct CurveKeyFile: Sendable {
    /// The identity the key authenticates as (a theme id, `aggregator`, …).
    public var identity: String
    /// The public key.
    public var publicKey: CurvePublicKey
    /// The secret key, present only in a `.key_secret` file.
    public var secretKey: CurveSecretKey?
    /// For an operator key (`operator:NAME`), the themes whose alerts it may
    /// acknowledge (`themes = "work health"`); nil: every theme.
    public var themes: [String]?
    /// For an operator key, the SHA-256 (64 lowercase hex digits) of its HTTP bearer token
    /// (`http-token-sha256 = "…"`, written by `koers keys token`): the aggregator's HTTP
    /// API admits that token as this operator. Never the token itself.
    public var httpTokenSHA256: String?

    /// A key file's contents.
    public init(identity: String, publicKey: CurvePublicKey, secretKey: CurveSecretKey? = nil) {
        self.identity = identity
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// The key pair, when this file holds the secret key.
    public var keyPair: CurveKeyPair? {
        guard let secretKey else { return nil }
        return try? CurveKeyPair(publicKey: publicKey, secretKey: secretKey)
    }

    /// The file's text.
    public func render(createdAt: Date = Date()) -> String {
        let stamp = ISO8601DateFormatter().string(from: createdAt)
        var lines: [String]
        if secretKey != nil {
            lines = [
                "# Koers CURVE key pair: SECRET. Keep it private (mode 0600); never copy it off this host.",
                "# Give the aggregator only the matching \(identity).key file.",
            ]
        } else {
            lines = ["# Koers CURVE public key. Copy this file to the aggregator's trusted keys directory."]
        }
        lines += ["# created \(stamp)", "identity = \"\(identity)\"", "public-key = \"\(publicKey.z85)\""]
        if let themes { lines.append("themes = \"\(themes.joined(separator: " "))\"") }
        if let httpTokenSHA256 { lines.append("http-token-sha256 = \"\(httpTokenSHA256)\"") }
        if let secretKey { lines.append("secret-key = \"\(secretKey.z85)\"") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses a key file's text; `path` is used in error messages only.
    public static func parse(_ text: String, path: String) throws(ZMQError) -> CurveKeyFile {
        func fail(_ line: Int, _ why: String) -> ZMQError {
            ZMQError(code: .invalidKeyFile, operation: "read key file", endpoint: nil,
                     message: "\(path):\(line): \(why)")
        }
        var fields: [String: (value: String, line: Int)] = [:]
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let eq = line.firstIndex(of: "=") else {
                throw fail(i + 1, "expected `name = \"value\"`, got `\(line)`")
            }
            let name = line[..<eq].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            guard value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") else {
                throw fail(i + 1, "the value of `\(name)` must be in double quotes")
            }
            value = String(value.dropFirst().dropLast())
            guard ["identity", "public-key", "secret-key", "themes", "http-token-sha256"].contains(name) else {
                throw fail(i + 1, "unknown field `\(name)`; expected identity, public-key, secret-key, themes or http-token-sha256")
            }
            guard fields[name] == nil else { throw fail(i + 1, "`\(name)` appears twice") }
            fields[name] = (value, i + 1)
        }
        guard let identity = fields["identity"] else { throw fail(1, "missing `identity = \"…\"`") }
        guard let pub = fields["public-key"] else { throw fail(1, "missing `public-key = \"…\"`") }
        let publicKey: CurvePublicKey
        do { publicKey = try CurvePublicKey(z85: pub.value) } catch { throw fail(pub.line, error.message) }
        var secretKey: CurveSecretKey?
        if let sec = fields["secret-key"] {
            do { secretKey = try CurveSecretKey(z85: sec.value) } catch { throw fail(sec.line, "secret key: \(error.message)") }
            guard (try? secretKey!.publicKey) == publicKey else {
                throw fail(sec.line, "the secret key does not belong to the public key on line \(pub.line); regenerate the pair")
            }
        }
        var file = CurveKeyFile(identity: identity.value, publicKey: publicKey, secretKey: secretKey)
        if let t = fields["themes"] {
            let themes = t.value.split(separator: " ").map(String.init)
            guard identity.value.hasPrefix("operator:") else { throw fail(t.line, "`themes` scopes an operator key; `\(identity.value)` is not `operator:NAME`") }
            guard !themes.isEmpty else { throw fail(t.line, "`themes` is empty; leave the line out to allow every theme") }
            file.themes = themes
        }
        if let h = fields["http-token-sha256"] {
            guard identity.value.hasPrefix("operator:") else {
                throw fail(h.line, "`http-token-sha256` gives an operator an HTTP token; `\(identity.value)` is not `operator:NAME`")
            }
            guard h.value.count == 64, h.value.allSatisfy({ "0123456789abcdef".contains($0) }) else {
                throw fail(h.line, "`http-token-sha256` must be 64 lowercase hex digits (a SHA-256); write it with `koers keys token`")
            }
            file.httpTokenSHA256 = h.value
        }
        return file
    }

    /// Reads a key file.
    public static func read(_ path: String) throws(ZMQError) -> CurveKeyFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ZMQError(code: .invalidKeyFile, operation: "read key file",
                           message: "\(path): cannot read: \(error.localizedDescription)")
        }
        return try parse(text, path: path)
    }

    /// The file name (without `.key`) a key of `identity` is kept under: the identity,
    /// with an operator's `operator:NAME` written `operator.NAME` (a `:` would read as a
    /// host name to scp; theme ids never hold a `.`).
    public static func fileStem(for identity: String) -> String {
        identity.hasPrefix("operator:") ? "operator." + identity.dropFirst(9) : identity
    }

    /// Whether an identity can name a key file: letters, digits, `-`, `_` and `.`, with
    /// an optional `operator:` prefix for operators (`operator:anna`).
    public static func isValidIdentity(_ identity: String) -> Bool {
        let name = identity.hasPrefix("operator:") ? identity.dropFirst("operator:".count) : identity[...]
        return !name.isEmpty && name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) })
    }

    /// Writes a new pair as `DIR/IDENTITY.key` and `DIR/IDENTITY.key_secret` (mode 0600).
    ///
    /// - Returns: the two paths written.
    /// - Throws: ``ZMQError/Code/invalidKeyFile`` when either file exists (unless
    ///   `overwrite`) or cannot be written.
    @discardableResult
    public static func write(_ pair: CurveKeyPair, identity: String, directory: String,
                             overwrite: Bool = false) throws(ZMQError) -> (publicPath: String, secretPath: String) {
        guard isValidIdentity(identity) else {
            throw ZMQError(code: .invalidKeyFile, operation: "write key file",
                           message: "key identity `\(identity)` must be letters, digits, `-`, `_` or `.`, or `operator:` and those")
        }
        let fm = FileManager.default
        let pubPath = (directory as NSString).appendingPathComponent("\(fileStem(for: identity)).key")
        let secPath = (directory as NSString).appendingPathComponent("\(fileStem(for: identity)).key_secret")
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for p in [pubPath, secPath] where fm.fileExists(atPath: p) && !overwrite {
                throw ZMQError(code: .invalidKeyFile, operation: "write key file",
                               message: "\(p) already exists; move it away first (rotating a key?) or pass --force")
            }
            let now = Date()
            try CurveKeyFile(identity: identity, publicKey: pair.publicKey).render(createdAt: now)
                .write(toFile: pubPath, atomically: true, encoding: .utf8)
            // Create the secret file 0600 before any secret byte is in it.
            _ = fm.createFile(atPath: secPath, contents: nil, attributes: [.posixPermissions: 0o600])
            try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secPath)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: secPath))
            try handle.truncate(atOffset: 0)
            try handle.write(contentsOf: Data(CurveKeyFile(identity: identity, publicKey: pair.publicKey, secretKey: pair.secretKey)
                .render(createdAt: now).utf8))
            try handle.close()
        } catch let e as ZMQError {
            throw e
        } catch {
            throw ZMQError(code: .invalidKeyFile, operation: "write key file",
                           message: "\(directory): cannot write key files: \(error.localizedDescription)")
        }
        return (pubPath, secPath)
    }

    /// Every operator key's scope in a directory: `operator:NAME` → its `themes`, for
    /// the keys that name some.
    public static func loadOperatorScopes(directory: String) throws(ZMQError) -> [String: Set<String>] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var scopes: [String: Set<String>] = [:]
        for name in names.sorted() where name.hasSuffix(".key") {
            let file = try read((directory as NSString).appendingPathComponent(name))
            if let t = file.themes { scopes[file.identity] = Set(t) }
        }
        return scopes
    }

    /// Every operator key's HTTP token hash in a directory: `operator:NAME` → the
    /// SHA-256 hex of its token, for the keys that carry one.
    public static func loadHTTPTokenHashes(directory: String) throws(ZMQError) -> [String: String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var hashes: [String: String] = [:]
        for name in names.sorted() where name.hasSuffix(".key") {
            let file = try read((directory as NSString).appendingPathComponent(name))
            if let h = file.httpTokenSHA256 { hashes[file.identity] = h }
        }
        return hashes
    }

    /// Reads every `*.key` file in a directory into an allow-list for a ``ZAPAuthenticator``.
    ///
    /// - Throws: ``ZMQError/Code/invalidKeyFile`` naming the file when one is malformed or
    ///   two files claim the same key.
    public static func loadTrustedKeys(directory: String) throws(ZMQError) -> [CurvePublicKey: String] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw ZMQError(code: .invalidKeyFile, operation: "read keys directory",
                           message: "\(directory): cannot list trusted keys: \(error.localizedDescription)")
        }
        var allow: [CurvePublicKey: String] = [:]
        for name in names.sorted() where name.hasSuffix(".key") {
            let path = (directory as NSString).appendingPathComponent(name)
            let file = try read(path)
            if let other = allow[file.publicKey] {
                throw ZMQError(code: .invalidKeyFile, operation: "read keys directory",
                               message: "\(path): this public key is already trusted as `\(other)`; one key, one identity")
            }
            allow[file.publicKey] = file.identity
        }
        return allow
    }
}
