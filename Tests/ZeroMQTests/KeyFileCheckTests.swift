import Foundation
import Testing
@testable import ZeroMQ

/// `CurveKeyFile.check`: the one set of rules every reader of key files applies.
@Suite("Key file checks")
struct KeyFileCheckTests {
    func withKeys(_ body: (String) throws -> Void) throws {
        let dir = NSTemporaryDirectory() + "koers-keycheck-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(dir)
    }

    func problem(_ path: String) -> KeyFileProblem? {
        if case .failure(let p) = CurveKeyFile.check(path) { return p }
        return nil
    }

    @Test("a secret key readable by group or others is refused with the chmod that fixes it, before it is read", arguments: [
        (0o644 as mode_t, "group and others (mode 644)"), (0o640, "group (mode 640)"), (0o604, "others (mode 604)"),
    ])
    func tooOpen(mode: mode_t, said: String) throws {
        try withKeys { dir in
            let (_, secret) = try CurveKeyFile.write(try CurveKeyPair.generate(), identity: "work", directory: dir)
            chmod(secret, mode)
            let p = try #require(problem(secret))
            #expect(p.code == .tooOpen)
            #expect(p.message.contains("readable by \(said)"))
            #expect(p.fix == "chmod 600 \(secret)")
            #expect { try CurveKeyFile.read(secret) } throws: { ($0 as? ZMQError)?.message.contains("fix: chmod 600 \(secret)") == true }
            chmod(secret, 0o400)
            #expect(problem(secret) == nil)
        }
    }

    @Test("a file named for one identity holding another's key is refused, naming both")
    func misnamed() throws {
        try withKeys { dir in
            let (pub, sec) = try CurveKeyFile.write(try CurveKeyPair.generate(), identity: "work", directory: dir)
            try FileManager.default.moveItem(atPath: pub, toPath: dir + "/safety.key")
            try FileManager.default.moveItem(atPath: sec, toPath: dir + "/safety.key_secret")
            for (name, right) in [("safety.key", "work.key"), ("safety.key_secret", "work.key_secret")] {
                let p = try #require(problem(dir + "/" + name))
                #expect(p.code == .misnamed)
                #expect(p.message.contains("is named `safety` but holds the key of `work`"))
                #expect(p.fix == "rename it to \(right), or remove it if it is a stray copy")
            }
            // And so it is not trusted, as work or as safety.
            let trust = try CurveKeyFile.loadTrustedKeys(directory: dir)
            #expect(trust.allow.isEmpty)
            #expect(trust.refused.map(\.code) == [.misnamed])
        }
    }

    @Test("operator keys are named operator.NAME; a public file named a secret one is refused")
    func operatorsAndSecrets() throws {
        try withKeys { dir in
            let (pub, _) = try CurveKeyFile.write(try CurveKeyPair.generate(), identity: "operator:anna", directory: dir)
            #expect(pub.hasSuffix("operator.anna.key") && problem(pub) == nil)
            try FileManager.default.copyItem(atPath: pub, toPath: dir + "/operator.anna.key_secret.tmp")
            try FileManager.default.removeItem(atPath: dir + "/operator.anna.key_secret")
            try FileManager.default.moveItem(atPath: dir + "/operator.anna.key_secret.tmp", toPath: dir + "/operator.anna.key_secret")
            chmod(dir + "/operator.anna.key_secret", 0o600)
            #expect(problem(dir + "/operator.anna.key_secret")?.code == .noSecret)
        }
    }

    @Test("one unreadable or broken file, or two files of one key, leave the rest trusted")
    func directory() throws {
        try withKeys { dir in
            let talent = try CurveKeyPair.generate()
            try CurveKeyFile.write(talent, identity: "talent", directory: dir)
            try CurveKeyFile.write(try CurveKeyPair.generate(), identity: "health", directory: dir)
            try FileManager.default.removeItem(atPath: dir + "/health.key")
            try FileManager.default.createSymbolicLink(atPath: dir + "/health.key", withDestinationPath: dir + "/nowhere")
            try "garbage\n".write(toFile: dir + "/safety.key", atomically: true, encoding: .utf8)
            let work = try CurveKeyPair.generate()
            try CurveKeyFile.write(work, identity: "work", directory: dir)
            try CurveKeyFile(identity: "wrk", publicKey: work.publicKey).render().write(toFile: dir + "/wrk.key", atomically: true, encoding: .utf8)
            let trust = try CurveKeyFile.loadTrustedKeys(directory: dir)
            #expect(trust.allow == [talent.publicKey: "talent"])
            let refused = Dictionary(uniqueKeysWithValues: trust.refused.map { (($0.path as NSString).lastPathComponent, $0) })
            #expect(refused["health.key"]?.code == .unreadable)
            #expect(refused["health.key"]?.message.contains("cannot read: No such file or directory") == true)
            #expect(refused["safety.key"]?.code == .malformed)
            #expect(refused["safety.key"]?.message.contains("safety.key:1: expected `name = \"value\"`") == true)
            #expect(refused["work.key"]?.code == .duplicate && refused["wrk.key"]?.code == .duplicate)
            #expect(refused["work.key"]?.message.contains("also in \(dir)/wrk.key (as `wrk`)") == true)
        }
    }
}
