import Synchronization

/// The aggregator's numbered stream, fanned out in-process: the ZeroMQ publisher, the
/// metrics, the Server-Sent Events clients and the notifiers each subscribe and each
/// receive every document in sequence order from the moment they subscribed.
///
/// A subscriber with a limit that falls that many documents behind is ended rather than
/// left to hold memory: its stream finishes with ``Subscription/overflowed`` set, and it
/// resumes from the stored stream (`docs/architecture.md`, "The feed").
public final class StreamHub: Sendable {

    struct State {
        var next = 0
        var subscribers: [Int: (continuation: AsyncStream<FeedDocument>.Continuation, flag: OverflowFlag?)] = [:]
        var batchSubscribers: [Int: AsyncStream<[FeedDocument]>.Continuation] = [:]
        var last: UInt64
        /// The latest documents, oldest first: between `recentCapacity` and a quarter
        /// more once full (trimmed in one go, so a publish costs an append and a share
        /// of one move).
        var recent: [FeedDocument] = []
    }

    private let state: Mutex<State>
    /// How many of the latest documents ``recent(after:)`` can always answer from.
    public let recentCapacity: Int

    /// - Parameter lastSequence: the stream's last sequence when the hub starts.
    /// - Parameter recentCapacity: how many of the latest documents are kept for
    ///   ``recent(after:)``: the notifiers read them every 100 ms, and 4,096 is more than
    ///   a second of the built-in plan's stream at full ingest; each costs its JSON and
    ///   its value in memory (with 100,000 milestones the window was 16,384 documents, a
    ///   noticeable share of `rss_mb_100k`).
    public init(lastSequence: UInt64 = 0, recentCapacity: Int = 4_096) {
        state = Mutex(State(last: lastSequence))
        self.recentCapacity = max(1, recentCapacity)
    }

    /// One subscriber's documents.
    public struct Subscription: Sendable {
        /// The documents published after ``startsAfter``, in order.
        public let documents: AsyncStream<FeedDocument>
        /// The stream's last sequence when this subscription began: every later
        /// document is in ``documents`` (unless it overflowed).
        public let startsAfter: UInt64
        let flag: OverflowFlag?
        /// Whether the stream ended because the subscriber fell too far behind.
        public var overflowed: Bool { flag?.isSet ?? false }
    }

    /// Subscribes to every document published from now on.
    ///
    /// - Parameter limit: the most documents held for this subscriber before it is
    ///   ended (nil: no limit, for subscribers that keep up by design).
    public func subscribe(limit: Int? = nil) -> Subscription {
        let flag = limit.map { _ in OverflowFlag() }
        let (stream, continuation) = AsyncStream.makeStream(of: FeedDocument.self,
                                                            bufferingPolicy: limit.map { .bufferingOldest($0) } ?? .unbounded)
        let (id, last) = state.withLock { s in
            s.next += 1
            s.subscribers[s.next] = (continuation, flag)
            return (s.next, s.last)
        }
        // Not under the hub's lock here: a cancelled subscriber's termination runs while
        // its task's own lock is held, and `publish` holds the hub's lock while resuming
        // that task (yield): taking the hub's lock here could deadlock them.
        continuation.onTermination = { [weak self] _ in Task { self?.remove(id) } }
        return Subscription(documents: stream, startsAfter: last, flag: flag)
    }

    /// Subscribes to every document published from now on, a publish call's documents at
    /// a time (one wake-up per committed batch, not per document: for subscribers that do
    /// little with each, such as the status gauges). Never limited.
    public func subscribeBatches() -> (batches: AsyncStream<[FeedDocument]>, startsAfter: UInt64) {
        let (stream, continuation) = AsyncStream.makeStream(of: [FeedDocument].self, bufferingPolicy: .unbounded)
        let (id, last) = state.withLock { s in
            s.next += 1
            s.batchSubscribers[s.next] = continuation
            return (s.next, s.last)
        }
        continuation.onTermination = { [weak self] _ in Task { _ = self?.state.withLock { $0.batchSubscribers.removeValue(forKey: id) } } }
        return (stream, last)
    }

    /// Publishes documents, in sequence order, to every subscriber.
    public func publish(_ documents: some Sequence<FeedDocument>) {
        // Yielding under the lock keeps every subscriber's order the publish order.
        // An overflowed subscriber is finished after the lock is released: finishing
        // runs its termination handler, which takes the lock.
        let all = Array(documents)
        guard !all.isEmpty else { return }
        let behind = state.withLock { s in
            var behind: [AsyncStream<FeedDocument>.Continuation] = []
            s.recent += all
            if s.recent.count >= recentCapacity + max(1, recentCapacity / 4) { s.recent.removeFirst(s.recent.count - recentCapacity) }
            for c in s.batchSubscribers.values { c.yield(all) }
            for d in all {
                s.last = d.sequence
                for (id, sub) in s.subscribers {
                    if case .dropped = sub.continuation.yield(d) {
                        sub.flag?.set()
                        behind.append(sub.continuation)
                        s.subscribers[id] = nil
                    }
                }
            }
            return behind
        }
        for c in behind { c.finish() }
    }

    /// The last sequence published.
    public var lastSequence: UInt64 { state.withLock { $0.last } }

    /// Every document published after `sequence`, in order, when the hub still holds
    /// them all; nil when some are older than its window (or were published before
    /// this hub started), so the reader takes them from the stored stream instead.
    /// A reader that follows the stream by position (the notifiers) keeps up from
    /// memory, as typed values, and reads the store only after falling behind.
    public func recent(after sequence: UInt64) -> [FeedDocument]? {
        state.withLock { s in
            if sequence >= s.last { return [] }
            guard let first = s.recent.first, first.sequence <= sequence + 1 else { return nil }
            // Sequences are increasing: the first one after `sequence` by bisection.
            var lo = 0, hi = s.recent.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if s.recent[mid].sequence <= sequence { lo = mid + 1 } else { hi = mid }
            }
            // Every sequence in between, or the store is asked: the hub is not the record.
            guard UInt64(s.recent.count - lo) == s.last - sequence else { return nil }
            return Array(s.recent[lo...])
        }
    }

    /// Ends every subscription (the aggregator is stopping).
    public func finish() {
        let (all, batches) = state.withLock { s in
            defer { s.subscribers = [:]; s.batchSubscribers = [:] }
            return (Array(s.subscribers.values), Array(s.batchSubscribers.values))
        }
        for sub in all { sub.continuation.finish() }
        for b in batches { b.finish() }
    }

    private func remove(_ id: Int) { _ = state.withLock { $0.subscribers.removeValue(forKey: id) } }
}

/// Set once when a limited subscriber is ended for falling behind.
final class OverflowFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}
