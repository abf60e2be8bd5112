import CZeroMQ
import Foundation
import Logging
import Testing
@testable import ZeroMQ

@Suite("CURVE security and the ZAP authenticator")
struct CurveTests {
    @Test("Z85 round-trips and public keys derive from secret keys")
    func z85() throws {
        let pair = try CurveKeyPair.generate()
        #expect(pair.publicKey.z85.count == 40)
        #expect(try CurvePublicKey(z85: pair.publicKey.z85) == pair.publicKey)
        #expect(try pair.secretKey.publicKey == pair.publicKey)
        // RFC 32's test vector.
        let bytes: [UInt8] = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B]
        #expect(try Z85.encode(bytes) == "HelloWorld")
        #expect(try Z85.decode("HelloWorld") == bytes)
        #expect(!"\(pair.secretKey)".contains(pair.secretKey.z85))
    }

    @Test("malformed keys are refused with the reason", arguments: [
        ("short", "expected 40"), (String(repeating: "~", count: 40), "alphabet"), (String(repeating: "#", count: 40), "overflows"),
    ])
    func badKeys(text: String, reason: String) {
        #expect {
            try CurvePublicKey(z85: text)
        } throws: { e in
            guard let e = e as? ZMQError else { return false }
            return e.code == .invalidKey && e.message.contains(reason)
        }
    }

    @Test("key files are written, read back and checked")
    func keyFiles() throws {
        let dir = NSTemporaryDirectory() + "koers-keys-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pair = try CurveKeyPair.generate()
        let (pub, sec) = try CurveKeyFile.write(pair, identity: "talent", directory: dir)
        let attrs = try FileManager.default.attributesOfItem(atPath: sec)
        #expect((attrs[.posixPermissions] as? Int) == 0o600)
        let secret = try CurveKeyFile.read(sec)
        #expect(secret.identity == "talent")
        #expect(secret.keyPair?.publicKey == pair.publicKey)
        #expect(try CurveKeyFile.read(pub).secretKey == nil)
        #expect(try CurveKeyFile.loadTrustedKeys(directory: dir).allow == [pair.publicKey: "talent"])
        #expect {
            try CurveKeyFile.write(pair, identity: "talent", directory: dir)
        } throws: { ($0 as? ZMQError)?.message.contains("already exists") == true }
    }

    @Test("a broken key file names its line", arguments: [
        ("identity = \"a\"\npublic-key = \"short\"\n", "f.key:2:"),
        ("identity = \"a\"\npublik-key = \"x\"\n", "f.key:2: unknown field `publik-key`"),
        ("identity = a\n", "f.key:1: the value of `identity` must be in double quotes"),
        ("# only a comment\n", "missing `identity"),
    ])
    func brokenKeyFile(text: String, expected: String) {
        #expect {
            try CurveKeyFile.parse(text, path: "f.key")
        } throws: { e in
            guard let e = e as? ZMQError else { return false }
            return e.code == .invalidKeyFile && e.message.contains(expected)
        }
    }

    /// A CURVE server PULL guarded by an authenticator that trusts one client key.
    struct Fixture {
        let context: Context
        let zap: ZAPAuthenticator
        let server: Socket
        let serverKeys: CurveKeyPair
        let clientKeys: CurveKeyPair
        let endpoint: String

        init() throws {
            context = try Context()
            serverKeys = try CurveKeyPair.generate()
            clientKeys = try CurveKeyPair.generate()
            zap = try ZAPAuthenticator(context: context, allow: [clientKeys.publicKey: "talent"])
            server = try context.socket(.pull)
            try server.makeCurveServer(secretKey: serverKeys.secretKey, authenticator: zap)
            endpoint = try server.bind("tcp://127.0.0.1:*")
        }

        func client(keys: CurveKeyPair, serverKey: CurvePublicKey) throws -> Socket {
            let c = try context.socket(.push)
            try c.set(.linger, .after(.zero))
            try c.makeCurveClient(keyPair: keys, serverKey: serverKey)
            return c
        }
    }

    @Test("the right keys connect and every message carries the authenticated identity")
    func handshakeSucceeds() async throws {
        let f = try Fixture()
        #expect(try f.server.get(.curveServer))
        let client = try f.client(keys: f.clientKeys, serverKey: f.serverKeys.publicKey)
        try client.connect(f.endpoint)
        for i in 0..<50 { try client.send(Message(strings: ["report", "\(i)"])) }
        try f.server.set(.receiveTimeout, .milliseconds(10_000))
        for i in 0..<50 {
            let m = try f.server.receive()
            #expect(m[1].string == "\(i)")
            #expect(m.userID == "talent")
            #expect(m.frames.allSatisfy { $0.userID == "talent" })
        }
        #expect(f.zap.decisionCounts.allowed == 1)
        client.close()
        f.server.close()
        try await f.zap.stop()
        f.context.terminate()
    }

    @Test("an unknown client key is refused with ZAP status 400")
    func unknownClientKey() async throws {
        let f = try Fixture()
        let stranger = try CurveKeyPair.generate()
        let client = try f.client(keys: stranger, serverKey: f.serverKeys.publicKey)
        let monitor = try SocketMonitor(client)
        try client.connect(f.endpoint)
        try client.send("let me in")
        let event = try await firstEvent(monitor) { $0.isAuthenticationFailure }
        #expect(event == .handshakeFailedAuthentication(endpoint: f.endpoint, status: 400))
        #expect(f.zap.decisionCounts.denied >= 1)
        #expect(try f.server.tryReceive() == nil)
        client.close()
        await monitor.close()
        f.server.close()
        try await f.zap.stop()
        f.context.terminate()
    }

    @Test("a client with the wrong server key fails the handshake and delivers nothing")
    func wrongServerKey() async throws {
        let f = try Fixture()
        let serverMonitor = try SocketMonitor(f.server)
        let impostor = try CurveKeyPair.generate()
        let client = try f.client(keys: f.clientKeys, serverKey: impostor.publicKey)
        try client.connect(f.endpoint)
        try client.send("hello?")
        let event = try await firstEvent(serverMonitor) {
            if case .handshakeFailedProtocol = $0 { true } else { false }
        }
        guard case .handshakeFailedProtocol(_, let code) = event else { Issue.record("got \(event)"); return }
        #expect(code == UInt32(ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC))
        #expect(try f.server.tryReceive() == nil)
        #expect(f.zap.decisionCounts.allowed == 0)
        client.close()
        f.server.close()
        await serverMonitor.close()
        try await f.zap.stop()
        f.context.terminate()
    }

    @Test("a plain client cannot talk to a CURVE server")
    func plainClientRefused() async throws {
        let f = try Fixture()
        let client = try f.context.socket(.push)
        try client.set(.linger, .after(.zero))
        let monitor = try SocketMonitor(client)
        try client.connect(f.endpoint)
        try client.send("plain")
        _ = try await firstEvent(monitor) {
            switch $0 {
            case .handshakeFailedProtocol, .handshakeFailed, .disconnected: true
            default: false
            }
        }
        #expect(try f.server.tryReceive() == nil)
        client.close()
        await monitor.close()
        f.server.close()
        try await f.zap.stop()
        f.context.terminate()
    }

    @Test("a CURVE server cannot be made without a running authenticator in its context")
    func noAuthenticatorNoServer() async throws {
        let keys = try CurveKeyPair.generate()
        let context = try Context()
        let other = try Context()
        let zap = try ZAPAuthenticator(context: other, allow: [:])
        let socket = try context.socket(.pull)
        #expect {
            try socket.makeCurveServer(secretKey: keys.secretKey, authenticator: zap)
        } throws: { ($0 as? ZMQError)?.code == .noAuthenticator }
        #expect(try socket.get(.curveServer) == false)

        // Same context, but the authenticator was stopped.
        let zap2 = try ZAPAuthenticator(context: context, allow: [:])
        try await zap2.stop()
        #expect {
            try socket.makeCurveServer(secretKey: keys.secretKey, authenticator: zap2)
        } throws: { ($0 as? ZMQError)?.code == .noAuthenticator }

        // A second authenticator in one context is refused.
        let zap3 = try ZAPAuthenticator(context: context, allow: [:])
        #expect {
            try ZAPAuthenticator(context: context, allow: [:])
        } throws: { ($0 as? ZMQError)?.code == .addressInUse }

        // And an authenticator will not stop under a live server socket.
        try socket.makeCurveServer(secretKey: keys.secretKey, authenticator: zap3)
        await #expect {
            try await zap3.stop()
        } throws: { ($0 as? ZMQError)?.code == .invalidState }
        socket.close()
        try await zap3.stop()
        try await zap.stop()
        context.terminate()
        other.terminate()
    }

    @Test("the allow-list can change at run time")
    func revoke() async throws {
        let f = try Fixture()
        f.zap.revoke(f.clientKeys.publicKey)
        let client = try f.client(keys: f.clientKeys, serverKey: f.serverKeys.publicKey)
        let monitor = try SocketMonitor(client)
        try client.connect(f.endpoint)
        _ = try await firstEvent(monitor) { $0.isAuthenticationFailure }
        client.close()
        await monitor.close()
        f.server.close()
        try await f.zap.stop()
        f.context.terminate()
    }
}
