import Foundation
import Testing
import Wire
import ZeroMQ
@testable import ThemeService

@Suite("Key files are checked as ssh checks them", .serialized)
struct KeyFileTests {
    @Test("safety.key holding `identity = \"work\"` is not trusted: neither as work nor as safety, and the log names both")
    func misnamedKey() async throws {
        try await bounded(150, "the misnamed-key test") {
            let ws = try Workspace()
            // A second work key pair, its public half copied over safety.key.
            let rogue = ws.dir + "/rogue"
            try CurveKeyFile.write(try CurveKeyPair.generate(), identity: "work", directory: rogue)
            try FileManager.default.copyItem(atPath: ws.keys + "/aggregator.key", toPath: rogue + "/aggregator.key")
            try FileManager.default.removeItem(atPath: ws.keys + "/safety.key")
            try FileManager.default.copyItem(atPath: rogue + "/work.key", toPath: ws.keys + "/safety.key")
            try ws.outbox("work").enqueue(workReports(1...3), now: 1_700_000_000_000)
            let aggregator = try ws.aggregator()
            // The rogue work key tries to publish: ZAP refuses it, and the service says so.
            let service = try Child(["theme", "run", "work", "--keys", rogue, "--data", ws.data, "--aggregator", ws.endpoint], log: ws.dir + "/work.log")
            try eventually("the rogue work key to be refused", within: 60) {
                try ws.outbox("work").summary().diagnosis?.verdict == "client_key_not_trusted"
            }
            #expect(try ws.outbox("work").summary().acked == 0)
            let log = try String(contentsOfFile: ws.dir + "/aggregator.log", encoding: .utf8)
            #expect(log.contains("\(ws.keys)/safety.key is named `safety` but holds the key of `work`"), "\(log)")
            #expect(log.contains("rename it to work.key"), "\(log)")
            #expect(log.contains("theme has no trusted key: its service cannot report") && log.contains("theme=safety"), "\(log)")
            service.stop()
            // The real work key still publishes.
            let real = try ws.theme("work")
            try eventually("the real work key's reports acknowledged", within: 60) { try ws.outbox("work").summary().acked == 3 }
            real.stop()
            aggregator.stop()
        }
    }

    @Test("a secret key readable by others (0644) is refused by the theme service and the aggregator, with the chmod that fixes it")
    func openSecretKeys() async throws {
        try await bounded(120, "the open-secret-key test") {
            let ws = try Workspace()
            let safetySecret = ws.keys + "/safety.key_secret"
            chmod(safetySecret, 0o644)
            var (status, log) = try expectRefusal(ws, { try ws.theme("safety") }, log: "safety.log")
            #expect(status != 0)
            #expect(log.contains("\(safetySecret) holds a secret key and is readable by group and others (mode 644)"), "\(log)")
            #expect(log.contains("chmod 600 \(safetySecret)"), "\(log)")

            let aggregatorSecret = ws.keys + "/aggregator.key_secret"
            chmod(aggregatorSecret, 0o640)
            (status, log) = try expectRefusal(ws, { try ws.aggregator() }, log: "aggregator.log")
            #expect(status != 0)
            #expect(log.contains("\(aggregatorSecret) holds a secret key and is readable by group (mode 640)"), "\(log)")
            #expect(log.contains("chmod 600 \(aggregatorSecret)"), "\(log)")

            // Fixed as told, both start.
            chmod(safetySecret, 0o600)
            chmod(aggregatorSecret, 0o600)
            try ws.outbox("safety").enqueue(safetyReports(1...2), now: 1_700_000_000_000)
            let aggregator = try ws.aggregator()
            let service = try ws.theme("safety")
            try eventually("reports acknowledged once the modes are fixed", within: 60) { try ws.outbox("safety").summary().acked == 2 }
            service.stop()
            aggregator.stop()
        }
    }

    @Test("one unreadable and one broken trusted key file: the aggregator starts without those identities, loudly; the others report")
    func unreadableTrustedKey() async throws {
        try await bounded(150, "the unreadable-key test") {
            let ws = try Workspace()
            // A key file that cannot be read (this test may run as root, for whom no mode
            // forbids reading: a link to a file that is gone), and one that is not a key file.
            try FileManager.default.removeItem(atPath: ws.keys + "/health.key")
            try FileManager.default.createSymbolicLink(atPath: ws.keys + "/health.key", withDestinationPath: ws.dir + "/gone/health.key")
            try "identity = \"talent\"\npublic-key = \"not a key\"\n".write(toFile: ws.keys + "/talent.key", atomically: true, encoding: .utf8)
            try ws.outbox("safety").enqueue(safetyReports(1...5), now: 1_700_000_000_000)
            let aggregator = try ws.aggregator()
            let service = try ws.theme("safety")
            try eventually("the other themes report", within: 60) { try ws.outbox("safety").summary().acked == 5 }
            let log = try String(contentsOfFile: ws.dir + "/aggregator.log", encoding: .utf8)
            #expect(log.contains("key file refused: it is not trusted") && log.contains("\(ws.keys)/health.key: cannot read: No such file or directory"), "\(log)")
            #expect(log.contains("\(ws.keys)/talent.key:2:"), "\(log)")
            #expect(log.contains("theme=health") && log.contains("theme=talent"), "\(log)")
            // `koers doctor` says the same, with the same words.
            let (doctor, said) = try runKoers(["doctor", "--data", ws.data, "--keys", ws.keys, "--ports", String(try ZeroMQ.unusedLoopbackPort())])
            #expect(doctor == 1)
            #expect(said.contains("\(ws.keys)/health.key: cannot read: No such file or directory"), "\(said)")
            service.stop()
            aggregator.stop()
        }
    }
}
