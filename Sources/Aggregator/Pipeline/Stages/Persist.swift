import Foundation
import Synchronization

/// Stage 7, persist: the batch in one transaction — its reports, refusals, the
/// publishers' new levels, and the stream messages it causes — before anything is
/// acknowledged or published. `PRAGMA synchronous = FULL`: one fsync of the WAL per batch.
struct Persist: Sendable {
    let store: ReportStore

    /// - Returns: how long the transaction took.
    func callAsFunction(_ outcome: Intake.Outcome, levels: [String: UInt64], events: [ReportStore.StreamRecord], at ms: Int64) throws -> Duration {
        let started = ContinuousClock.now
        try store.commit(reports: outcome.reports, refusals: outcome.refusals, acked: levels, stream: events, at: ms)
        return ContinuousClock.now - started
    }
}

/// Whether the store takes writes, as the ingest thread last found it: `/readyz` and
/// the log say why not.
public final class StoreHealth: Sendable {
    public struct Failure: Sendable, Equatable {
        /// What SQLite said.
        public var error: String
        /// When writes began to fail (the aggregator's clock, ms).
        public var since: Int64
        /// Batches refused with `503 storage_unavailable` since then.
        public var refusedBatches: Int
    }

    private let state = Mutex<Failure?>(nil)

    /// nil while writes succeed.
    public var failure: Failure? { state.withLock { $0 } }

    /// A write failed; returns true for the first failure of an outage (to log once).
    func failed(_ error: String, at ms: Int64) -> Bool {
        state.withLock { s in
            if s != nil { s!.refusedBatches += 1; s!.error = error; return false }
            s = Failure(error: error, since: ms, refusedBatches: 1)
            return true
        }
    }

    /// A write succeeded: returns the outage it ended, if any.
    func recovered() -> Failure? { state.withLock { s in defer { s = nil }; return s } }
}
