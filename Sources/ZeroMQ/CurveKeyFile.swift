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

    /// Reads a key file, checked as ``check(_:)`` checks it.
    ///
    /// - Throws: ``ZMQError/Code/invalidKeyFile`` with the problem and its fix.
    public static func read(_ path: String) throws(ZMQError) -> CurveKeyFile {
        switch check(path) {
        case .success(let file): return file
        case .failure(let problem):
            throw ZMQError(code: .invalidKeyFile, operation: "read key file", message: problem.description)
        }
    }

    /// Reads and checks a key file the way ssh checks its own: a secret key readable by
    /// anyone but its owner is refused before it is read (with the `chmod 600` that fixes
    /// it); a file named `STEM.key` or `STEM.key_secret` must hold the key of the identity
    /// that STEM names (Koers finds a key by its file name and trusts it as the identity
    /// inside, so a `safety.key` holding `identity = "work"` would trust a second work
    /// key and none for safety); a `.key_secret` file must hold a secret key. Every
    /// reader of key files (the aggregator, a theme service, `koers keys show`, `koers
    /// doctor`) goes through here.
    public static func check(_ path: String) -> Result<CurveKeyFile, KeyFileProblem> {
        let name = (path as NSString).lastPathComponent
        let secretName = name.hasSuffix(".key_secret")
        let stem = secretName ? String(name.dropLast(".key_secret".count)) : name.hasSuffix(".key") ? String(name.dropLast(".key".count)) : nil
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            return .failure(KeyFileProblem(code: .unreadable, path: path, message: "\(path): cannot read: \(String(cString: strerror(errno)))",
                                           fix: "check that the file exists and that this user may read it"))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & 0o170000 == 0o100000 else {  // S_IFREG
            return .failure(KeyFileProblem(code: .unreadable, path: path, message: "\(path): not a regular file",
                                           fix: "replace it with the key file itself"))
        }
        let mode = st.st_mode & 0o777
        // The mode is checked before a secret byte is read, on the file actually opened.
        if secretName && mode & 0o077 != 0 { return .failure(.tooOpen(path, mode: mode)) }
        let bytes = (try? FileHandle(fileDescriptor: fd, closeOnDealloc: false).read(upToCount: 65_536)) ?? Data()
        guard let text = String(data: bytes, encoding: .utf8) else {
            return .failure(KeyFileProblem(code: .malformed, path: path, message: "\(path): not a key file (not UTF-8 text)",
                                           fix: stem.map { "regenerate the pair with `koers keys generate \($0)`" }))
        }
        let file: CurveKeyFile
        do { file = try parse(text, path: path) } catch {
            return .failure(KeyFileProblem(code: .malformed, path: path, message: error.message,
                                           fix: stem.map { "regenerate the pair with `koers keys generate \($0)`" }))
        }
        if file.secretKey != nil && mode & 0o077 != 0 { return .failure(.tooOpen(path, mode: mode)) }
        if let stem, fileStem(for: file.identity) != stem {
            let right = fileStem(for: file.identity) + (secretName ? ".key_secret" : ".key")
            return .failure(KeyFileProblem(
                code: .misnamed, path: path,
                message: "\(path) is named `\(stem)` but holds the key of `\(file.identity)`; Koers finds a key by its file name and trusts it as the identity inside, so the two must agree",
                fix: "rename it to \(right), or remove it if it is a stray copy"))
        }
        if secretName && file.secretKey == nil {
            return .failure(KeyFileProblem(code: .noSecret, path: path, message: "\(path) is named a secret key file but holds no secret key",
                                           fix: "regenerate the pair with `koers keys generate \(stem ?? file.identity)`"))
        }
        return .success(file)
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
    /// the keys that name some. Files that fail ``check(_:)`` are left out, as
    /// ``loadTrustedKeys(directory:)`` leaves them out.
    public static func loadOperatorScopes(directory: String) throws(ZMQError) -> [String: Set<String>] {
        var scopes: [String: Set<String>] = [:]
        for file in try loadTrustedKeys(directory: directory).files { if let t = file.themes { scopes[file.identity] = Set(t) } }
        return scopes
    }

    /// Every operator key's HTTP token hash in a directory: `operator:NAME` → the
    /// SHA-256 hex of its token, for the keys that carry one (files that fail the checks
    /// left out).
    public static func loadHTTPTokenHashes(directory: String) throws(ZMQError) -> [String: String] {
        var hashes: [String: String] = [:]
        for file in try loadTrustedKeys(directory: directory).files { if let h = file.httpTokenSHA256 { hashes[file.identity] = h } }
        return hashes
    }

    /// The public key files of a trusted-keys directory: those that pass, and those refused.
    public struct TrustedKeys: Sendable {
        /// The allow-list for a ``ZAPAuthenticator``: each trusted key and its identity.
        public var allow: [CurvePublicKey: String] = [:]
        /// The files trusted, in file-name order.
        public var files: [CurveKeyFile] = []
        /// The files not trusted, and why: each fails ``check(_:)``, or holds a public key
        /// another file holds too (neither is trusted: which one is right cannot be told).
        public var refused: [KeyFileProblem] = []
    }

    /// Reads every `*.key` file in a directory, each checked with ``check(_:)``.
    ///
    /// A file that fails is refused on its own: the others are trusted, so one team's
    /// broken copy does not stop every theme (`docs/operations.md`, "Key files").
    ///
    /// - Throws: ``ZMQError/Code/invalidKeyFile`` when the directory cannot be listed.
    public static func loadTrustedKeys(directory: String) throws(ZMQError) -> TrustedKeys {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw ZMQError(code: .invalidKeyFile, operation: "read keys directory",
                           message: "\(directory): cannot list trusted keys: \(error.localizedDescription)")
        }
        var read: [(path: String, file: CurveKeyFile)] = []
        var result = TrustedKeys()
        for name in names.sorted() where name.hasSuffix(".key") {
            let path = (directory as NSString).appendingPathComponent(name)
            switch check(path) {
            case .success(let file): read.append((path, file))
            case .failure(let problem): result.refused.append(problem)
            }
        }
        let holders = Dictionary(grouping: read, by: { $0.file.publicKey })
        for (path, file) in read {
            let others = holders[file.publicKey, default: []].filter { $0.path != path }
            guard others.isEmpty else {
                result.refused.append(KeyFileProblem(
                    code: .duplicate, path: path,
                    message: "\(path): its public key is also in \(others.map(\.path).joined(separator: ", ")) (as `\(others[0].file.identity)`); one key, one identity, so neither is trusted",
                    fix: "remove the copy that is not that identity's key"))
                continue
            }
            result.allow[file.publicKey] = file.identity
            result.files.append(file)
        }
        return result
    }
}

/// Why a key file is not used: what is wrong, naming the file, and the fix.
public struct KeyFileProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem it is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        public var description: String { raw }
        /// The file cannot be opened or is not a regular file.
        public static let unreadable = Code(raw: "unreadable")
        /// The file is not a key file (see ``CurveKeyFile/parse(_:path:)``).
        public static let malformed = Code(raw: "malformed")
        /// A secret key readable by group or others.
        public static let tooOpen = Code(raw: "too open")
        /// The file's name is not the identity inside it.
        public static let misnamed = Code(raw: "misnamed")
        /// A `.key_secret` file without a secret key.
        public static let noSecret = Code(raw: "no secret key")
        /// Two trusted files hold one public key.
        public static let duplicate = Code(raw: "duplicate key")
    }

    public var code: Code
    /// The file.
    public var path: String
    /// What is wrong, naming the file.
    public var message: String
    /// What fixes it, when there is one thing to do.
    public var fix: String?

    public init(code: Code, path: String, message: String, fix: String?) {
        self.code = code
        self.path = path
        self.message = message
        self.fix = fix
    }

    /// A secret key file readable by group or others (ssh: "UNPROTECTED PRIVATE KEY FILE").
    static func tooOpen(_ path: String, mode: mode_t) -> KeyFileProblem {
        let who = mode & 0o070 != 0 && mode & 0o007 != 0 ? "group and others" : mode & 0o070 != 0 ? "group" : "others"
        return KeyFileProblem(code: .tooOpen, path: path,
                              message: "\(path) holds a secret key and is readable by \(who) (mode \(String(mode, radix: 8))); it is not used until only its owner can read it",
                              fix: "chmod 600 \(path)")
    }

    /// The message, then the fix.
    public var description: String { fix.map { "\(message); fix: \($0)" } ?? message }
}
