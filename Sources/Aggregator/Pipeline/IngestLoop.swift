import Foundation
import Logging
import Synchronization
import Wire
import ZeroMQ

/// The ingest thread: owns the ingest ROUTER and the stream PUB, and runs the
/// ``Pipeline`` — every batch from receive to publish, the requests of the others
/// between batches (``Mailbox``), and the clock's ticks — on one thread, so a report
/// crosses no thread on its way from the socket to the store and the stream.
final class IngestLoop: @unchecked Sendable {
    // Proof for Sendable: the loop's mutable state (sockets, pipeline) is made and used
    // inside `run()` only, on the one thread `start` creates; the other threads reach it
    // only through `mailbox` (thread-safe) and `dropped` (atomic).
    let runtime: AggregatorRuntime
    let mailbox: Mailbox
    let dropped = Atomic<Int>(0)

    init(runtime: AggregatorRuntime, mailbox: Mailbox) {
        self.runtime = runtime
        self.mailbox = mailbox
    }

    /// Runs the loop on a thread of its own until ``Mailbox/requestStop()``.
    func start() async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            let thread = Thread { [self] in
                do { try run(); c.resume() } catch { c.resume(throwing: error) }
            }
            thread.name = "koers-ingest"
            thread.qualityOfService = .userInteractive
            thread.start()
        }
    }

    func run() throws {
        let c = runtime.configuration, logger = runtime.logger
        // The sockets and the pipeline first, and the mailbox handed over however this
        // ends: a bind that fails (a port in use) must not leave the others' requests
        // waiting for a thread that is gone, nor a socket open that would hold up the
        // context's termination.
        let router = try ingestSocket()
        let pub: Socket, pipeline: Pipeline
        do {
            pub = try runtime.serverSocket(.pub, for: .stream)
            do {
                try pub.set(.sendHighWaterMark, 100_000)
                try pub.set(.linger, .milliseconds(200))
                guard let core = runtime.takeCore() else { throw ZMQError(code: .invalidArgument, operation: "ingest", message: "the ingest loop started twice") }
                pipeline = try Pipeline(runtime: runtime, core: core, router: router, pub: pub)
            } catch {
                pub.close()
                throw error
            }
        } catch {
            router.close()
            throw error
        }
        // The sockets close on this thread before the state is handed over: after it,
        // requests run on their callers' threads.
        defer {
            router.close()
            pub.close()
            mailbox.handOver(pipeline)
        }
        let monitor = try SocketMonitor(router)
        let watcher = watchDrops(monitor)
        defer {
            watcher.cancel()
            Task { await monitor.close() }
        }
        let endpoint = try router.bind(c.ingestEndpoint)
        logger.info("ingest listening", metadata: ["endpoint": "\(endpoint)", "store": "\(c.storePath)", "trusted_keys": "\(c.trustedKeys.count)"])
        let streamEndpoint = try pub.bind(c.streamEndpoint)
        logger.info("stream listening", metadata: ["stream": "\(streamEndpoint)"])
        do {
            try loop(pipeline, router: router)
        } catch {
            logger.critical("the ingest thread stopped on an error", metadata: ["error": "\(error)"])
            throw error
        }
        logger.info("ingest stopping")
        logRefusalCounts(pipeline)
    }

    private func loop(_ pipeline: Pipeline, router: Socket) throws {
        let c = runtime.configuration
        var poller = Poller()
        let ingest = poller.add(router, events: .readable)
        let wake = poller.add(fileDescriptor: mailbox.wake.fileDescriptor, events: .readable)
        var nextTick = ContinuousClock.now + c.tickInterval
        var batch: [Message] = []
        batch.reserveCapacity(c.batchLimit)
        var handled = 0, trimmedAt = 0, lastBatch = ContinuousClock.now
        while true {
            let wait = max(.zero, nextTick - ContinuousClock.now)
            let ready = try poller.poll(timeout: .after(wait))
            if ready[wake].contains(.readable) {
                let (jobs, stop) = mailbox.take()
                for job in jobs { job(pipeline) }
                if stop { return }
            }
            if ready[ingest].contains(.readable) {
                while batch.count < c.batchLimit, let m = try router.tryReceive() { batch.append(m) }
                if !batch.isEmpty {
                    pipeline.ingest(batch)
                    handled += batch.count
                    lastBatch = .now
                }
                batch.removeAll(keepingCapacity: true)
            }
            if ContinuousClock.now >= nextTick {
                pipeline.tick()
                nextTick = ContinuousClock.now + c.tickInterval
                // After a burst (a large plan's first start, a backlog caught up, a
                // flood), once quiet for a second, give the memory its messages held
                // back to the system.
                let work = handled + pipeline.publish.count
                if work - trimmedAt >= 20_000 && ContinuousClock.now - lastBatch >= .seconds(1) {
                    trimmedAt = work
                    ProcessMemory.releaseFreed()
                }
            }
        }
    }

    private func ingestSocket() throws -> Socket {
        let router = try runtime.serverSocket(.router, for: .ingest)
        try router.set(.routerMandatory, true)
        try router.set(.linger, .milliseconds(500))
        // Per peer: a service keeps at most its window (1,000) unacknowledged, so 20,000
        // queued from one peer is a flood, and 10,000 replies unread a peer that does not
        // read; both bound what one peer can make the aggregator hold.
        try router.set(.receiveHighWaterMark, 20_000)
        try router.set(.sendHighWaterMark, 10_000)
        // A frame over 64 KiB drops the connection before it is read (no NACK can be
        // sent: the message never arrives); the monitor counts the drops. Payloads of
        // 4,097 bytes–64 KiB arrive and are refused with NACK 106 (§2.2).
        try router.set(.maxMessageSize, IngestService.maxMessageSize)
        try router.set(.heartbeatInterval, .seconds(2))
        try router.set(.heartbeatTimeout, .seconds(6))
        return router
    }

    private func watchDrops(_ monitor: SocketMonitor) -> Task<Void, Never> {
        Task { [logger = runtime.logger, metrics = runtime.metrics, self] in
            do {
                for try await e in monitor.events {
                    guard case .disconnected(let peer) = e else { continue }
                    let n = dropped.add(1, ordering: .relaxed).newValue
                    metrics.connectionDropped()
                    logger.info("ingest connection dropped", metadata: [
                        "endpoint": "\(peer)", "dropped_since_start": "\(n)",
                        "why": "the peer went away or missed heartbeats, or sent a frame over \(IngestService.maxMessageSize) bytes (ZMQ_MAXMSGSIZE)"])
                }
            } catch {}
        }
    }

    private func logRefusalCounts(_ pipeline: Pipeline) {
        let drops = dropped.load(ordering: .relaxed), counts = pipeline.intake.refusalCounts
        guard !counts.isEmpty || drops > 0 else { return }
        let text = counts.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        runtime.logger.info("refusals since start", metadata: ["counts": "\(text)", "connections_dropped": "\(drops)"])
    }
}
