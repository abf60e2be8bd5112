import Foundation
import Testing
@testable import ZeroMQ

@Suite("The async bridge")
struct AsyncSocketTests {
    @Test("100,000 messages arrive in order with a bounded inbox", arguments: [Transport.ipc, .tcp])
    func inOrderBounded(transport: Transport) async throws {
        let context = try Context()
        let pullSocket = try context.socket(.pull)
        try pullSocket.set(.receiveHighWaterMark, 1000)
        let endpoint = try pullSocket.bind(transport.bindEndpoint())
        var config = AsyncSocket.Configuration()
        config.inboxCapacity = 512
        config.outboxCapacity = 512
        let pull = AsyncSocket(pullSocket, configuration: config)
        let pushSocket = try context.socket(.push)
        try pushSocket.set(.sendHighWaterMark, 1000)
        try pushSocket.connect(endpoint)
        let push = AsyncSocket(pushSocket, configuration: config)
        let total = 100_000

        let producer = Task {
            for i in 0..<total {
                var n = UInt64(i).littleEndian
                try await push.send(Message([Frame(copying: withUnsafeBytes(of: &n) { $0 })]))
            }
            try await push.flush()
        }
        try await within(120, "100,000 messages") {
            var expected: UInt64 = 0
            for try await m in pull.messages {
                let n = m[0].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                #expect(n == expected)
                if n != expected { break }
                expected += 1
                // A slow consumer now and then, so the inbox fills and pushes back.
                if expected % 10_000 == 0 { try await Task.sleep(for: .milliseconds(20)) }
                if expected == UInt64(total) { break }
            }
            #expect(expected == UInt64(total))
        }
        try await producer.value
        // Bounded memory: the bridge never held more than its capacities, whatever
        // the producer's pace; libzmq's own queues are bounded by the high-water marks.
        #expect(pull.inboxHighWater <= 512)
        #expect(pull.inboxHighWater > 0)
        #expect(push.outboxHighWater <= 512)
        await push.close()
        await pull.close()
        context.terminate()
    }

    @Test("request and reply through the bridge")
    func dealerRouter() async throws {
        let context = try Context()
        let routerSocket = try context.socket(.router)
        let endpoint = try routerSocket.bind("inproc://bridge-\(UUID().uuidString)")
        let router = AsyncSocket(routerSocket)
        let dealerSocket = try context.socket(.dealer)
        try dealerSocket.connect(endpoint)
        let dealer = AsyncSocket(dealerSocket)
        let server = Task(executorPreference: OwnQueueExecutor()) {
            for try await request in router.messages {
                try await router.send(Message([request[0], Frame("echo:" + (request[1].string ?? ""))]))
            }
        }
        try await within(30, "replies") {
            var replies = dealer.messages.makeAsyncIterator()
            for i in 0..<100 {
                try await dealer.send("\(i)")
                #expect(try await replies.next()?[0].string == "echo:\(i)")
            }
        }
        await dealer.close()
        await router.close()
        _ = try await server.value
        context.terminate()
    }

    @Test("flush reports a send that libzmq refused")
    func flushReportsFailure() async throws {
        let context = try Context()
        let routerSocket = try context.socket(.router)
        try routerSocket.set(.routerMandatory, true)
        try routerSocket.bind("inproc://mandatory-\(UUID().uuidString)")
        let router = AsyncSocket(routerSocket)
        try await router.send(Message(strings: ["ghost", "hello"]))
        await #expect {
            try await router.flush()
        } throws: { ($0 as? AsyncSocket.SendFailure)?.error.code == .hostUnreachable }
        // The failure is reported once.
        try await router.flush()
        await router.close()
        context.terminate()
    }

    @Test("close under load returns within the linger and the context terminates")
    func shutdownUnderLoad() async throws {
        let context = try Context()
        let pullSocket = try context.socket(.pull)
        try pullSocket.set(.receiveHighWaterMark, 10)
        let endpoint = try pullSocket.bind("tcp://127.0.0.1:*")
        let pushSocket = try context.socket(.push)
        try pushSocket.set(.sendHighWaterMark, 10)
        try pushSocket.connect(endpoint)
        var config = AsyncSocket.Configuration()
        config.outboxCapacity = 100
        config.linger = .milliseconds(100)
        let push = AsyncSocket(pushSocket, configuration: config)
        // Nobody reads: the pipe fills, then the outbox, then send suspends.
        let pull = AsyncSocket(pullSocket, configuration: config)
        let producer = Task {
            var sent = 0
            while true {
                do { try await push.send("load") } catch { return (sent, error) }
                sent += 1
            }
        }
        try await within(30, "the outbox to fill") {
            while push.shared.state.withLock({ $0.outbox.count }) < 100 { await Task.yield() }
        }
        try await within(30, "close under load") {
            await push.close()
            await push.close()  // idempotent
            await pull.close()
        }
        let (sent, error) = await producer.value
        #expect(sent >= 100)
        #expect((error as? ZMQError)?.code == .socketClosed)
        await #expect { try await push.send("late") } throws: { ($0 as? ZMQError)?.code == .socketClosed }
        try await within(30, "context termination") { context.terminate() }
    }

    @Test("context shutdown ends the message sequence with contextTerminated")
    func contextShutdown() async throws {
        let context = try Context()
        let pullSocket = try context.socket(.pull)
        try pullSocket.bind("inproc://shutdown-\(UUID().uuidString)")
        let pull = AsyncSocket(pullSocket)
        let consumer = Task { () -> Error? in
            do {
                for try await _ in pull.messages {}
                return nil
            } catch { return error }
        }
        context.shutdown()
        let error = try await within(30, "the consumer to end") { await consumer.value }
        #expect((error as? ZMQError)?.code == .contextTerminated)
        await pull.close()
        context.terminate()
    }

    @Test("cancelling the consumer ends its iteration")
    func cancellation() async throws {
        let context = try Context()
        let pullSocket = try context.socket(.pull)
        try pullSocket.bind("inproc://cancel-\(UUID().uuidString)")
        let pull = AsyncSocket(pullSocket)
        let consumer = Task {
            var n = 0
            for try await _ in pull.messages { n += 1 }
            return n
        }
        consumer.cancel()
        #expect(try await within(30, "cancellation") { try await consumer.value } == 0)
        await pull.close()
        context.terminate()
    }
}
