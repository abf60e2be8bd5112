import Crypto
import Foundation

/// The compiled plan cache: a plan file's validated ``Plan`` in a compact binary form,
/// kept in a directory beside the store and keyed by the SHA-256 of the file's bytes, so
/// a restart on an unchanged plan skips parsing and validating its YAML
/// (`docs/plan-format.md`, "The compiled plan cache").
///
/// A cache file is trusted only when its magic, format version, source hash, length and
/// payload checksum all match; anything else is a miss, said in ``Outcome``, and the
/// YAML is read and the cache written again. Writing is atomic (a temporary file, then
/// a rename), so a crash leaves either the old file or the new one.
public struct PlanCache: Sendable {
    /// The version of the binary form this build writes and reads. Raise it whenever the
    /// plan model or its encoding (`PlanCache+Codec.swift`) changes.
    public static let formatVersion: UInt32 = 1
    static let magic = Array("KOERSPLC".utf8)
    /// Magic, version, reserved, source hash, payload length, payload checksum.
    static let headerSize = 8 + 4 + 4 + 32 + 8 + 32

    /// Where the cache files live (created when the first is written).
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// What a load found in the cache.
    public enum Outcome: Sendable, Equatable {
        /// The plan came from the cache file.
        case hit(file: String)
        /// No cache file for this plan's hash; the YAML was read and the cache written.
        case missed(file: String)
        /// The cache file was of another format version (another Koers build): ignored, rewritten.
        case otherVersion(file: String, version: UInt32)
        /// The cache file was damaged (the reason says how): not trusted, rewritten.
        case damaged(file: String, reason: String)
        /// The plan was read from the YAML, but the cache could not be written (why).
        case notWritten(file: String, reason: String)
    }

    /// The cache file for a plan file's SHA-256.
    public func file(for hash: [UInt8]) -> String {
        "\(directory)/\(hash.map { String(format: "%02x", $0) }.joined()).plan"
    }

    /// Whether the cache holds a file for the plan at `path`'s current bytes, of this
    /// format version (not whether it is undamaged: ``load(path:)`` checks that). Nil
    /// when the file cannot be read.
    public func holds(path: String) -> Bool? {
        guard let bytes = FileManager.default.contents(atPath: path) else { return nil }
        let file = file(for: Self.sha256(bytes))
        guard let handle = FileHandle(forReadingAtPath: file) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 12), head.count == 12 else { return false }
        let version = head.suffix(4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }  // little-endian
        return Array(head.prefix(8)) == Self.magic && version == Self.formatVersion
    }

    /// SHA-256 of bytes.
    static func sha256<D: DataProtocol>(_ bytes: D) -> [UInt8] { Array(SHA256.hash(data: bytes)) }
}

// MARK: - Loading

extension PlanCache {
    /// Loads the plan at `path` (or the built-in plan when nil) from the cache when it
    /// holds this file's bytes, otherwise from the YAML, writing the cache.
    ///
    /// - Throws: ``PlanError`` exactly as ``PlanLoader/loadDefault(path:)`` does for a
    ///   file that cannot be read or is not a valid plan (no cache is written then).
    public func load(path: String?) throws(PlanError) -> (plan: Plan, outcome: Outcome) {
        let source = try PlanLoader.source(path: path)
        guard var bytes = FileManager.default.contents(atPath: source.file) else {
            return (try PlanLoader.loadDefault(path: path), .notWritten(file: source.file, reason: "the plan file could not be read"))
        }
        let hash = Self.sha256(bytes)
        let cacheFile = file(for: hash)
        var outcome = Outcome.missed(file: cacheFile)
        if let cached = FileManager.default.contents(atPath: cacheFile) {
            switch Self.decode(Array(cached), source: hash) {
            case .success(let plan): return (plan, .hit(file: cacheFile))
            case .failure(.otherVersion(let v)): outcome = .otherVersion(file: cacheFile, version: v)
            case .failure(.damaged(let reason)): outcome = .damaged(file: cacheFile, reason: reason)
            }
        }
        // Parse the very bytes hashed; text that is not UTF-8 goes the loader's own way, for its own error.
        guard let text = String(validating: bytes, as: UTF8.self) else { return (try PlanLoader.loadDefault(path: path), outcome) }
        // Parsing sets the start's memory high-water mark: hold one copy of the file, not two.
        bytes = Data()
        let plan = try PlanLoader.load(yaml: text, file: source.label)
        let encoded = Self.encode(plan, source: hash)
        do {
            try write(encoded, to: cacheFile)
        } catch {
            return (plan, .notWritten(file: cacheFile, reason: "\(error)"))
        }
        // The plan as every later start reads it: one copy of each repeated string, in
        // memory allocated after the YAML's node tree was freed: measured with 100,000
        // milestones, 78 MB resident after the plan instead of 92 MB (`koers-bench memory`).
        guard case .success(let compact) = Self.decode(encoded, source: hash) else { return (plan, outcome) }
        return (compact, outcome)
    }

    /// Why a cache file was not used.
    enum Refusal: Error {
        case otherVersion(UInt32)
        case damaged(String)
    }

    /// The plan in a cache file's bytes, when they are whole and of this build's format.
    static func decode(_ bytes: [UInt8], source: [UInt8]) -> Result<Plan, Refusal> {
        guard bytes.count >= headerSize, Array(bytes[0..<8]) == magic else {
            return .failure(.damaged("it is \(bytes.count) bytes without a complete header"))
        }
        let version = UInt32(littleEndian: bytes[8..<12].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })
        guard version == formatVersion else { return .failure(.otherVersion(version)) }
        guard Array(bytes[16..<48]) == source else { return .failure(.damaged("it names another plan file's hash")) }
        let length = UInt64(littleEndian: bytes[48..<56].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        guard length == UInt64(bytes.count - headerSize) else {
            return .failure(.damaged("its payload is \(bytes.count - headerSize) bytes, the header says \(length) (truncated?)"))
        }
        let payload = Array(bytes[headerSize...])
        guard sha256(payload) == Array(bytes[56..<88]) else { return .failure(.damaged("its payload does not match its checksum")) }
        do throws(CacheFormatError) {
            var reader = try CacheReader(payload)
            let plan = try Plan.read(from: &reader)
            guard reader.atEnd else { return .failure(.damaged("bytes follow the plan")) }
            return .success(plan)
        } catch {
            return .failure(.damaged("its payload does not decode: \(error)"))
        }
    }

    /// A cache file's bytes for a plan read from a file with SHA-256 `source`.
    static func encode(_ plan: Plan, source: [UInt8]) -> [UInt8] {
        var w = CacheWriter()
        plan.write(to: &w)
        let payload = w.payload
        var out = magic
        out.reserveCapacity(headerSize + payload.count)
        withUnsafeBytes(of: formatVersion.littleEndian) { out.append(contentsOf: $0) }
        out += [0, 0, 0, 0]
        out += source
        withUnsafeBytes(of: UInt64(payload.count).littleEndian) { out.append(contentsOf: $0) }
        out += sha256(payload)
        out += payload
        return out
    }

    /// Writes the cache file atomically and removes the cache files of other plans (a
    /// re-planned file's old cache would never be read again).
    func write(_ bytes: [UInt8], to cacheFile: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = "\(cacheFile).\(ProcessInfo.processInfo.processIdentifier).tmp"
        guard fm.createFile(atPath: temporary, contents: Data(bytes)) else {
            throw CacheFormatError(message: "cannot write \(temporary)")
        }
        guard rename(temporary, cacheFile) == 0 else {
            let reason = String(cString: strerror(errno))
            try? fm.removeItem(atPath: temporary)
            throw CacheFormatError(message: "cannot rename \(temporary) to \(cacheFile): \(reason)")
        }
        let name = (cacheFile as NSString).lastPathComponent
        for other in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] where other.hasSuffix(".plan") && other != name {
            try? fm.removeItem(atPath: "\(directory)/\(other)")
        }
    }
}
