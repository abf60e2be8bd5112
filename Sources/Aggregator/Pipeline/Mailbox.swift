import Synchronization
import ZeroMQ

/// How the other parts of the aggregator talk to the ingest thread: a queue of requests
/// the loop runs between batches, with an eventfd that wakes its poll.
///
/// Once the loop has ended (the aggregator is stopping), requests are answered at once
/// on the caller's thread, one at a time under the mailbox's lock, with the state the
/// loop handed over, so that no request waits for a thread that is gone.
final class Mailbox: Sendable {
    typealias Job = @Sendable (Pipeline) -> Void

    private struct State {
        var jobs: [Job] = []
        var stopRequested = false
        var orphaned: HandedOver?
    }

    private let state = Mutex(State())
    /// Readable while requests wait (the loop clears it before running them).
    let wake = WakeSignal()

    /// Runs `body` on the ingest thread with its pipeline and returns what it returns.
    func ask<T: Sendable>(_ body: @escaping @Sendable (Pipeline) -> T) async -> T {
        await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
            post { p in c.resume(returning: body(p)) }
        }
    }

    /// Queues a job for the ingest thread (or runs it now, once the loop has ended).
    func post(_ job: @escaping Job) {
        let orphaned = state.withLock { s -> HandedOver? in
            if let o = s.orphaned { return o }
            s.jobs.append(job)
            return nil
        }
        if let orphaned { orphaned.run(job) } else { wake.signal() }
    }

    /// Asks the loop to end after the batch in hand.
    func requestStop() {
        state.withLock { $0.stopRequested = true }
        wake.signal()
    }

    /// The loop's side: the queued jobs, and whether to stop.
    func take() -> (jobs: [Job], stop: Bool) {
        wake.clear()
        return state.withLock { s in
            defer { s.jobs.removeAll(keepingCapacity: true) }
            return (s.jobs, s.stopRequested)
        }
    }

    /// The loop ended: later jobs run with `pipeline` under the lock of the returned box.
    func handOver(_ pipeline: Pipeline) {
        let box = HandedOver(pipeline)
        let left = state.withLock { s -> [Job] in
            s.orphaned = box
            defer { s.jobs = [] }
            return s.jobs
        }
        for job in left { box.run(job) }
    }
}

/// The pipeline after its thread ended.
final class HandedOver: @unchecked Sendable {
    // Proof for Sendable: `pipeline` is reached only inside `run`, under `lock`, and only
    // after the loop thread that owned it has returned (``Mailbox/handOver(_:)`` is its
    // last act), so no two threads ever use it at once.
    private let pipeline: Pipeline
    private let lock = Mutex(())

    init(_ pipeline: Pipeline) { self.pipeline = pipeline }

    func run(_ job: Mailbox.Job) { lock.withLock { _ in job(pipeline) } }
}
