import Feed
import Foundation
import StreamProtocol
import Wire
import ZeroMQ

/// Stage 8, publish: each stored stream message on the PUB socket, in sequence order,
/// then to the in-process subscribers (``Feed/StreamHub``: the HTTP server's SSE, the
/// metrics, the notifiers). Also the heartbeat while the stream is quiet.
final class Publish {
    let socket: Socket
    let hub: StreamHub
    let metrics: AggregatorMetrics
    let clock: any KoersClock
    let codec = WireCodec()
    /// When the stream last carried a message (a heartbeat is due when quiet).
    private(set) var lastSent = ContinuousClock.now
    /// Messages published since start.
    private(set) var count = 0

    init(socket: Socket, hub: StreamHub, metrics: AggregatorMetrics, clock: any KoersClock) {
        self.socket = socket
        self.hub = hub
        self.metrics = metrics
        self.clock = clock
    }

    func callAsFunction(_ events: [ReportStore.StreamRecord]) {
        guard !events.isEmpty else { return }
        let now = clock.now()
        for e in events {
            let env = Envelope(type: e.type, sequence: e.sequence, sentAt: now)
            let payload = codec.encodePayload(e.type == .statusChange ? .statusChange(document: e.document) : .alertTransition(document: e.document))
            send(Message([Frame(e.topic), Frame(env.bytes), Frame(payload)]))
            if let r = e.receivedAt { metrics.published(after: r) }
        }
        hub.publish(events.lazy.map(\.forPublishing))
        count += events.count
        lastSent = .now
    }

    /// The last sequence of the stream and of every topic, so that a subscriber to some
    /// topics can tell whether it missed one of theirs.
    func heartbeat(_ hb: StreamDocuments.Heartbeat) {
        let env = Envelope(type: .streamHeartbeat, sequence: hb.sequence, sentAt: clock.now())
        send(Message([Frame("hb"), Frame(env.bytes), Frame(codec.encodePayload(.streamHeartbeat(document: StreamDocuments.encode(hb))))]))
        lastSent = .now
    }

    /// A PUB socket never blocks: at its high-water mark libzmq drops the message for
    /// that subscriber, who sees the gap by sequence and takes a snapshot.
    private func send(_ m: Message) {
        if socket.isClosed { return }
        _ = try? socket.trySend(m)
    }
}
