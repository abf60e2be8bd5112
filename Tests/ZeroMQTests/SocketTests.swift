import Foundation
import Testing
@testable import ZeroMQ

@Suite("Synchronous sockets")
struct SocketTests {
    @Test("multipart messages round-trip", arguments: Transport.allCases)
    func multipartRoundTrip(transport: Transport) throws {
        let context = try Context()
        defer { context.terminate() }
        let pull = try context.socket(.pull)
        let push = try context.socket(.push)
        defer { push.close(); pull.close() }
        let endpoint = try pull.bind(transport.bindEndpoint())
        try push.connect(endpoint)
        let sent = Message(parts: [Array("header".utf8), [], [0, 1, 2, 255], Array(repeating: 7, count: 1000)])
        try push.send(sent)
        let got = try pull.receive()
        #expect(got == sent)
        #expect(got.count == 4)
        #expect(got[1].isEmpty)
        #expect(got[0].string == "header")
    }

    @Test("empty and 16 MiB frames arrive whole", arguments: Transport.allCases)
    func bigAndEmptyFrames(transport: Transport) throws {
        let context = try Context()
        defer { context.terminate() }
        let pull = try context.socket(.pull)
        let push = try context.socket(.push)
        defer { push.close(); pull.close() }
        let endpoint = try pull.bind(transport.bindEndpoint())
        try push.connect(endpoint)
        var big = [UInt8](repeating: 0, count: 16 << 20)
        for i in stride(from: 0, to: big.count, by: 4093) { big[i] = UInt8(truncatingIfNeeded: i / 4093) }
        try push.send([])
        try push.send(big)
        #expect(try pull.receive()[0].count == 0)
        let got = try pull.receive()
        #expect(got[0].count == 16 << 20)
        // Read in place, without a copy, and compare.
        let same = got[0].withUnsafeBytes { b in big.withUnsafeBytes { $0.elementsEqual(b) } }
        #expect(same)
    }

    @Test("a frame over the maximum message size is refused: the connection drops, nothing is delivered")
    func maxMessageSize() async throws {
        let context = try Context()
        defer { context.terminate() }
        let pull = try context.socket(.pull)
        try pull.set(.maxMessageSize, 1024)
        #expect(try pull.get(.maxMessageSize) == 1024)
        let monitor = try SocketMonitor(pull)
        let endpoint = try pull.bind("tcp://127.0.0.1:*")
        let push = try context.socket(.push)
        try push.connect(endpoint)
        try push.send([UInt8](repeating: 1, count: 2048))
        let event = try await firstEvent(monitor) { if case .disconnected = $0 { true } else { false } }
        guard case .disconnected = event else { Issue.record("expected disconnect, got \(event)"); return }
        // The oversized message is gone; the next small one is the first to arrive.
        try push.send("small")
        try pull.set(.receiveTimeout, .milliseconds(10_000))
        #expect(try pull.receive()[0].string == "small")
        push.close()
        pull.close()
        await monitor.close()
    }

    @Test("PUB drops at its high-water mark while PUSH would block")
    func highWaterMarks() throws {
        let context = try Context()
        defer { context.terminate() }

        let pub = try context.socket(.pub)
        try pub.set(.sendHighWaterMark, 10)
        let pubEndpoint = try pub.bind("tcp://127.0.0.1:*")
        let sub = try context.socket(.sub)
        try sub.set(.receiveHighWaterMark, 10)
        try sub.subscribe()
        try sub.connect(pubEndpoint)
        // Wait until the subscription is in place: publish probes until one arrives.
        try sub.set(.receiveTimeout, .milliseconds(50))
        var joined = false
        for _ in 0..<200 where !joined {
            try pub.send("probe")
            joined = (try? sub.receive()) != nil
        }
        #expect(joined)
        while (try sub.tryReceive()) != nil {}
        // Every non-blocking send succeeds: PUB never blocks, it drops.
        let sent = 20_000
        for i in 0..<sent {
            #expect(try pub.trySend(Message(strings: ["\(i)"])))
        }
        var received = 0
        try sub.set(.receiveTimeout, .milliseconds(500))
        while (try? sub.receive()) != nil { received += 1 }
        #expect(received > 0)
        #expect(received < sent, "PUB should have dropped past its high-water mark")

        let push = try context.socket(.push)
        try push.set(.sendHighWaterMark, 10)
        let pull = try context.socket(.pull)
        try pull.set(.receiveHighWaterMark, 10)
        let pushEndpoint = try pull.bind("tcp://127.0.0.1:*")
        try push.connect(pushEndpoint)
        var accepted = 0
        var blocked = false
        for _ in 0..<100_000 {
            if try push.trySend(Message(strings: ["x"])) {
                accepted += 1
            } else {
                blocked = true
                break
            }
        }
        #expect(blocked, "PUSH should report would-block at its high-water mark")
        #expect(accepted >= 10 && accepted < 100_000)
        try push.set(.linger, .after(.zero))
        for s in [pub, sub, push, pull] { s.close() }
    }

    @Test("ROUTER with router-mandatory reports an unroutable peer")
    func routerMandatory() throws {
        let context = try Context()
        defer { context.terminate() }
        let router = try context.socket(.router)
        try router.set(.routerMandatory, true)
        try router.bind("inproc://router-\(UUID().uuidString)")
        defer { router.close() }
        #expect {
            try router.send(Message(strings: ["nobody", "", "hello"]))
        } throws: { ($0 as? ZMQError)?.code == .hostUnreachable }
    }

    @Test("a DEALER is routed back to by its routing id")
    func routingID() throws {
        let context = try Context()
        defer { context.terminate() }
        let router = try context.socket(.router)
        try router.set(.routerMandatory, true)
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        let dealer = try context.socket(.dealer)
        try dealer.set(.routingID, Array("talent".utf8))
        try dealer.connect(endpoint)
        try dealer.send("ping")
        let request = try router.receive()
        #expect(request[0].string == "talent")
        try router.send(Message([request[0], Frame("pong")]))
        #expect(try dealer.receive()[0].string == "pong")
        dealer.close()
        router.close()
    }

    @Test("non-blocking calls report would-block as a distinct case")
    func wouldBlock() throws {
        let context = try Context()
        defer { context.terminate() }
        let pull = try context.socket(.pull)
        try pull.bind("inproc://empty-\(UUID().uuidString)")
        #expect(try pull.tryReceive() == nil)
        let push = try context.socket(.push)
        // No peer yet: a PUSH has nowhere to queue.
        #expect(try push.trySend(Message(strings: ["x"])) == false)
        try pull.set(.receiveTimeout, .milliseconds(1))
        #expect { try pull.receive() } throws: { ($0 as? ZMQError)?.code == .timedOut }
        push.close()
        pull.close()
    }

    @Test("a bad endpoint gives its specific error", arguments: [
        "tcp://127.0.0.1:99999", "nonsense", "udp://127.0.0.1:5555", "tcp://", "ipc://",
    ])
    func badEndpoint(endpoint: String) throws {
        let context = try Context()
        defer { context.terminate() }
        let socket = try context.socket(.pull)
        defer { socket.close() }
        #expect {
            try socket.bind(endpoint)
        } throws: { error in
            guard let e = error as? ZMQError else { return false }
            return e.code == .invalidEndpoint && e.endpoint == endpoint && e.operation == "bind"
        }
    }

    @Test("binding a port in use says so")
    func addressInUse() throws {
        let context = try Context()
        defer { context.terminate() }
        let a = try context.socket(.pull)
        let b = try context.socket(.pull)
        defer { a.close(); b.close() }
        let endpoint = try a.bind("tcp://127.0.0.1:*")
        #expect { try b.bind(endpoint) } throws: { ($0 as? ZMQError)?.code == .addressInUse }
    }

    @Test("a bad option value gives its specific error naming the option")
    func badOptionValue() throws {
        let context = try Context()
        defer { context.terminate() }
        let socket = try context.socket(.push)
        defer { socket.close() }
        #expect {
            try socket.set(.sendHighWaterMark, -5)
        } throws: { error in
            guard let e = error as? ZMQError else { return false }
            return e.code == .invalidArgument && e.message.contains("ZMQ_SNDHWM")
        }
        #expect {
            try socket.set(.heartbeatTTL, .seconds(100_000))
        } throws: { ($0 as? ZMQError)?.code == .invalidArgument }
        #expect {
            try socket.set(.routingID, [])
        } throws: { ($0 as? ZMQError)?.code == .invalidArgument }
    }

    @Test("typed options read back what was set")
    func optionsRoundTrip() throws {
        let context = try Context()
        defer { context.terminate() }
        let s = try context.socket(.dealer)
        defer { s.close() }
        try s.set(.sendHighWaterMark, 123)
        try s.set(.receiveHighWaterMark, 456)
        try s.set(.linger, .milliseconds(250))
        try s.set(.reconnectInterval, .milliseconds(100))
        try s.set(.reconnectIntervalMax, .seconds(30))
        try s.set(.heartbeatInterval, .seconds(2))
        try s.set(.heartbeatTimeout, .seconds(6))
        try s.set(.immediate, true)
        try s.set(.sendTimeout, .forever)
        try s.set(.receiveTimeout, .milliseconds(1500))
        try s.set(.routingID, Array("work".utf8))
        #expect(try s.get(.sendHighWaterMark) == 123)
        #expect(try s.get(.receiveHighWaterMark) == 456)
        #expect(try s.get(.linger) == .milliseconds(250))
        #expect(try s.get(.reconnectInterval) == .milliseconds(100))
        #expect(try s.get(.reconnectIntervalMax) == .seconds(30))
        #expect(try s.get(.heartbeatInterval) == .seconds(2))
        #expect(try s.get(.heartbeatTimeout) == .seconds(6))
        #expect(try s.get(.immediate) == true)
        #expect(try s.get(.sendTimeout) == .forever)
        #expect(try s.get(.receiveTimeout) == .milliseconds(1500))
        #expect(try s.get(.routingID) == Array("work".utf8))
        let xpub = try context.socket(.xpub)
        try xpub.set(.xpubNoDrop, true)
        try xpub.set(.xpubWelcomeMessage, Array("welcome".utf8))
        xpub.close()
    }

    @Test("a second close does nothing; use after close is a specific error")
    func closeTwice() throws {
        let context = try Context()
        let s = try context.socket(.push)
        s.close()
        s.close()
        #expect(s.isClosed)
        #expect { try s.connect("inproc://x") } throws: { ($0 as? ZMQError)?.code == .socketClosed }
        context.terminate()
        context.terminate()
    }

    @Test("bind, unbind, connect and disconnect")
    func unbindAndDisconnect() async throws {
        let context = try Context()
        defer { context.terminate() }
        let pull = try context.socket(.pull)
        let push = try context.socket(.push)
        let monitor = try SocketMonitor(pull)
        let endpoint = try pull.bind("tcp://127.0.0.1:*")
        #expect(endpoint.hasPrefix("tcp://127.0.0.1:") && !endpoint.hasSuffix("*"))
        try push.connect(endpoint)
        try push.disconnect(endpoint)
        #expect { try push.disconnect(endpoint) } throws: { ($0 as? ZMQError)?.code == .endpointNotFound }
        try pull.unbind(endpoint)
        #expect { try pull.unbind(endpoint) } throws: { ($0 as? ZMQError)?.code == .endpointNotFound }
        // libzmq closes the listener in its I/O thread; once it says so, the port is free.
        _ = try await firstEvent(monitor) { $0 == .closed(endpoint: endpoint) }
        try pull.bind(endpoint)
        push.close()
        pull.close()
        await monitor.close()
    }

    @Test("a poller's timeout under a millisecond is rounded up, never down to a spin")
    func pollerRoundsUp() throws {
        #expect(Poller.milliseconds(roundingUp: .zero) == 0)
        #expect(Poller.milliseconds(roundingUp: .microseconds(-300)) == 0)
        #expect(Poller.milliseconds(roundingUp: .nanoseconds(1)) == 1)
        #expect(Poller.milliseconds(roundingUp: .microseconds(700)) == 1)
        #expect(Poller.milliseconds(roundingUp: .milliseconds(3)) == 3)
        #expect(Poller.milliseconds(roundingUp: .microseconds(3_001)) == 4)
        #expect(Poller.milliseconds(roundingUp: .seconds(2) + .microseconds(500)) == 2_001)
        // And the poll itself waits: nothing arrives, so it returns at its timeout, not before.
        let context = try Context()
        defer { context.terminate() }
        let pull = try context.socket(.pull)
        defer { pull.close() }
        try pull.bind("inproc://poll-round-\(UUID().uuidString)")
        var poller = Poller()
        poller.add(pull, events: .readable)
        let start = ContinuousClock.now
        #expect(try poller.poll(timeout: .after(.microseconds(400))).allSatisfy { $0.isEmpty })
        #expect(ContinuousClock.now - start >= .microseconds(400))
    }

    @Test("the poller reports which socket is ready")
    func poller() throws {
        let context = try Context()
        defer { context.terminate() }
        let a = try context.socket(.pull)
        let b = try context.socket(.pull)
        let ea = try a.bind("inproc://poll-a-\(UUID().uuidString)")
        let eb = try b.bind("inproc://poll-b-\(UUID().uuidString)")
        let push = try context.socket(.push)
        try push.connect(eb)
        var poller = Poller()
        let ia = poller.add(a, events: .readable)
        let ib = poller.add(b, events: .readable)
        #expect(try poller.poll(timeout: .after(.zero)).allSatisfy { $0.isEmpty })
        try push.send("to b")
        let ready = try poller.poll(timeout: .milliseconds(5000))
        #expect(ready[ib].contains(.readable))
        #expect(!ready[ia].contains(.readable))
        _ = ea
        for s in [a, b, push] { s.close() }
    }
}
