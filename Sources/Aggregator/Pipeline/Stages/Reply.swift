import Wire
import ZeroMQ

/// Stage 9, reply: the batch's answers on the ingest ROUTER after it is stored — the
/// NACKs and WELCOMEs in order, then one cumulative ACK per publisher whose level moved.
///
/// Never blocks: a peer whose queue is full (it does not read its replies) or that has
/// gone loses this reply, which is safe — an ACK is cumulative and the next one covers
/// it, and a resend of a settled report is answered again from the store — and one slow
/// peer cannot hold up the others' answers. A peer whose queue was full is named in
/// ``Sent/stalled``: the pipeline stops reading it until it reads (``Throttle``).
struct Reply {
    let socket: Socket
    let codec = WireCodec()

    struct Sent {
        /// Replies not sent.
        var dropped = 0
        /// The routing ids of peers whose reply queue is full.
        var stalled: [[UInt8]] = []
    }

    func callAsFunction(_ outcome: Intake.Outcome, levels: [String: UInt64], now: Int64) -> Sent {
        var sent = Sent()
        for (routing, payload) in outcome.replies { send(payload, to: routing, now: now, into: &sent) }
        for (publisher, routing) in outcome.advanced { send(.ack(Ack(settledThrough: levels[publisher] ?? 0)), to: routing, now: now, into: &sent) }
        return sent
    }

    func send(_ payload: Payload, to routing: Frame, now: Int64, into sent: inout Sent) {
        let (e, p) = codec.encode(WireMessage(payload, sequence: 0, sentAt: now))
        do {
            if try socket.trySend(Message([routing, Frame(e), Frame(p)])) { return }
            sent.stalled.append(routing.bytes)
        } catch {
            // EHOSTUNREACH (ZMQ_ROUTER_MANDATORY): the peer is gone.
        }
        sent.dropped += 1
    }
}

/// The fair share of a peer that does not read its replies: its messages are dropped
/// unread and counted (`502 too_fast`) until a reply to it can be sent again, so one
/// flooder costs the others neither their turn on the socket (the ROUTER reads its peers
/// in turn) nor memory (its queues stay at their high-water marks).
struct Throttle {
    /// Peers whose reply queue was full, by routing id.
    private(set) var stalled: Set<[UInt8]> = []

    var isEmpty: Bool { stalled.isEmpty }

    mutating func stall(_ ids: [[UInt8]]) { stalled.formUnion(ids) }

    /// Splits a batch into the messages to read and, per stalled peer, how many were dropped.
    func filter(_ batch: [Message]) -> (read: [Message], dropped: [[UInt8]: (routing: Frame, theme: String?, count: Int)]) {
        var read: [Message] = [], dropped: [[UInt8]: (routing: Frame, theme: String?, count: Int)] = [:]
        read.reserveCapacity(batch.count)
        for m in batch {
            guard m.count >= 1 else { continue }
            let id = m[0].bytes
            if stalled.contains(id) {
                dropped[id, default: (m[0], m.count > 1 ? m[1].userID : nil, 0)].count += 1
            } else {
                read.append(m)
            }
        }
        return (read, dropped)
    }

    /// A reply reached the peer again: read it again.
    mutating func resume(_ id: [UInt8]) { stalled.remove(id) }
}
