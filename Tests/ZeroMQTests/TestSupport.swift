import Foundation
import Synchronization
import Testing
@testable import ZeroMQ

/// The three transports every round-trip test runs over.
enum Transport: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case inproc, ipc, tcp
    var testDescription: String { rawValue }

    /// An endpoint unique to this test for `bind`; for tcp an ephemeral port, so read
    /// the bound endpoint back before connecting.
    func bindEndpoint() -> String {
        switch self {
        case .inproc: "inproc://test-\(UUID().uuidString)"
        case .ipc: "ipc://\(NSTemporaryDirectory())koers-test-\(UUID().uuidString.prefix(8)).sock"
        case .tcp: "tcp://127.0.0.1:*"
        }
    }
}

struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Runs `body`, failing if it has not finished within `seconds`. A guard against a
/// hang, not a timing assertion: the bound is generous.
func within<T: Sendable>(_ seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        // Off the cooperative pool (one thread per core): the process tests that run
        // alongside block it for seconds at a time, and this body must not wait for them.
        group.addTask(executorPreference: OwnQueueExecutor()) { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw TimedOut(what: what) }
        return value
    }
}

/// Reads events from a monitor until one matches.
func firstEvent(_ monitor: SocketMonitor, where match: @escaping @Sendable (MonitorEvent) -> Bool) async throws -> MonitorEvent {
    try await within(20, "a monitor event") {
        for try await event in monitor.events where match(event) { return event }
        throw TimedOut(what: "monitor event (stream ended)")
    }
}

/// A task executor on a serial dispatch queue, whose worker thread is not one of the
/// cooperative pool's (SystemTests has the same for the same reason).
final class OwnQueueExecutor: TaskExecutor, @unchecked Sendable {
    // Proof for Sendable: the queue is immutable and thread-safe.
    let queue = DispatchQueue(label: "koers.test.zeromq")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
