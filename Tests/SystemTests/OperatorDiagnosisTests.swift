import Foundation
import Testing
import ZeroMQ
@testable import Aggregator
@testable import Operators
@testable import ThemeService

/// An operator request nobody answers says why, from the DEALER's monitor events:
/// nothing listening, the aggregator's key wrong, this operator's key not trusted, or
/// connected but no answer in time.
@Suite("Why the aggregator does not answer an operator, with real processes", .serialized)
struct OperatorDiagnosisTests {
    /// An operator key `operator:NAME`, written to KEYS now.
    func operatorKeys(_ ws: Workspace, _ name: String) throws -> CurveKeyPair {
        let pair = try CurveKeyPair.generate()
        try CurveKeyFile.write(pair, identity: "operator:\(name)", directory: ws.keys, overwrite: true)
        return pair
    }

    func client(_ ws: Workspace, keys: CurveKeyPair, serverKey: CurvePublicKey? = nil, snapshot: String? = nil) throws -> OperatorClient {
        try OperatorClient(snapshotEndpoint: snapshot ?? ws.snapshotEndpoint, streamEndpoint: ws.streamEndpoint, keys: keys,
                           serverKey: try serverKey ?? CurveKeyFile.read(ws.keys + "/aggregator.key").publicKey)
    }

    /// The error a snapshot request ends with.
    func failure(_ client: OperatorClient, timeout: Duration) -> OperatorError? {
        do {
            _ = try client.snapshot(timeout: timeout)
            return nil
        } catch let e as OperatorError {
            return e
        } catch {
            Issue.record("not an OperatorError: \(error)")
            return nil
        }
    }

    /// Starts the aggregator and waits until a trusted operator gets a snapshot.
    func runningAggregator(_ ws: Workspace, trusted: CurveKeyPair) throws -> Child {
        let aggregator = try ws.aggregator()
        let c = try client(ws, keys: trusted)
        // An aggregator that exited (a port another process took first) is said at once,
        // with its log, rather than as 90 s without an answer (seen once in a loaded CI run).
        var exited = false
        do {
            try eventually("the aggregator answering", within: 90) {
                exited = !aggregator.process.isRunning
                return exited || (try? c.snapshot(timeout: .seconds(1))) != nil
            }
        } catch {}
        if exited || !aggregator.process.isRunning || (try? c.snapshot(timeout: .seconds(5))) == nil {
            let log = (try? String(contentsOfFile: ws.dir + "/aggregator.log", encoding: .utf8)) ?? ""
            let state = aggregator.process.isRunning ? "still running" : "exited with \(aggregator.process.terminationStatus)"
            throw TestFailure("the aggregator did not answer a trusted operator (\(state)); its log ends: \(log.suffix(3_000))")
        }
        return aggregator
    }

    @Test("nothing listening at the endpoint: the error says so")
    func nothingListening() async throws {
        try await bounded(30, "nothing listening") {
            let ws = try Workspace()
            // Port 1 (tcpmux) on loopback: nothing listens there, and no other test can bind it.
            let endpoint = "tcp://127.0.0.1:1"
            let c = try self.client(ws, keys: try self.operatorKeys(ws, "ops"), snapshot: endpoint)
            let e = try #require(self.failure(c, timeout: .seconds(2)))
            #expect(e.verdict == .nothingListening, "\(e)")
            #expect(e.description.contains("nothing is listening at \(endpoint)"), "\(e)")
            #expect(e.description.contains("no answer from the aggregator"), "\(e)")
        }
    }

    @Test("a wrong aggregator public key: the error names keys/aggregator.key")
    func serverKeyWrong() async throws {
        try await bounded(150, "server key wrong") {
            let ws = try Workspace()
            let keys = try self.operatorKeys(ws, "ops")
            let aggregator = try self.runningAggregator(ws, trusted: keys)
            defer { aggregator.stop() }
            let wrong = try CurveKeyPair.generate().publicKey
            let c = try self.client(ws, keys: keys, serverKey: wrong)
            let e = try #require(self.failure(c, timeout: .seconds(2)))
            #expect(e.verdict == .serverKeyWrong, "\(e)")
            #expect(e.description.contains("handshake fails"), "\(e)")
            #expect(e.description.contains("keys/aggregator.key"), "\(e)")
        }
    }

    @Test("an operator key the aggregator does not trust: the error says it refused this key")
    func clientKeyNotTrusted() async throws {
        try await bounded(150, "key not trusted") {
            let ws = try Workspace()
            let keys = try self.operatorKeys(ws, "ops")
            let aggregator = try self.runningAggregator(ws, trusted: keys)
            defer { aggregator.stop() }
            // Made after the aggregator read its keys: not trusted (until a SIGHUP).
            let late = try self.operatorKeys(ws, "late")
            let c = try self.client(ws, keys: late)
            let e = try #require(self.failure(c, timeout: .seconds(2)))
            #expect(e.verdict == .clientKeyNotTrusted, "\(e)")
            #expect(e.description.contains("refused this operator's key"), "\(e)")
            #expect(e.description.contains("trust"), "\(e)")
            // The trusted key still gets its answer, and quickly.
            let start = ContinuousClock.now
            _ = try self.client(ws, keys: keys).snapshot(timeout: .seconds(5))
            #expect(ContinuousClock.now - start < .seconds(4))
        }
    }

    @Test("connected but no answer in time: the error says the handshake succeeded")
    func connectedButSilent() async throws {
        try await bounded(30, "connected but silent") {
            let ws = try Workspace()
            let keys = try self.operatorKeys(ws, "ops")
            let serverKeys = try CurveKeyPair.generate()
            // A CURVE ROUTER that admits the operator and never answers.
            let context = try Context()
            let zap = try ZAPAuthenticator(context: context, allow: [keys.publicKey: "operator:ops"])
            let router = try context.socket(.router)
            try router.set(.linger, .after(.zero))
            try router.makeCurveServer(secretKey: serverKeys.secretKey, authenticator: zap)
            let endpoint = try router.bind("tcp://127.0.0.1:*")
            do {
                let c = try self.client(ws, keys: keys, serverKey: serverKeys.publicKey, snapshot: endpoint)
                let e = try #require(self.failure(c, timeout: .seconds(1)))
                #expect(e.verdict == .connected, "\(e)")
                #expect(e.description.contains("handshake succeeded"), "\(e)")
                #expect(e.description.contains("did not answer in time"), "\(e)")
            }
            router.close()
            try await zap.stop()
            context.terminate()
        }
    }
}
