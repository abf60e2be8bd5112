import Wire
import ZeroMQ

/// Stage 9, reply: the batch's answers on the ingest ROUTER after it is stored — the
/// NACKs and WELCOMEs in order, then one cumulative ACK per publisher whose level moved.
///
/// Never blocks: a peer whose queue is full (it does not read its replies) or that has
/// gone loses this reply, which is safe — an ACK is cumulative and the next one covers
/// it, and a resend of a settled report is answered again from the store — and one slow
/// peer cannot hold up the others' answers.
struct Reply {
    let socket: Socket
    let codec = WireCodec()

    /// - Returns: how many replies could not be sent.
    func callAsFunction(_ outcome: Intake.Outcome, levels: [String: UInt64], now: Int64) -> Int {
        var dropped = 0
        for (routing, payload) in outcome.replies where !send(payload, to: routing, now: now) { dropped += 1 }
        for (publisher, routing) in outcome.advanced where !send(.ack(Ack(settledThrough: levels[publisher] ?? 0)), to: routing, now: now) {
            dropped += 1
        }
        return dropped
    }

    func send(_ payload: Payload, to routing: Frame, now: Int64) -> Bool {
        let (e, p) = codec.encode(WireMessage(payload, sequence: 0, sentAt: now))
        // EHOSTUNREACH (ZMQ_ROUTER_MANDATORY: the peer is gone) is a dropped reply too.
        return (try? socket.trySend(Message([routing, Frame(e), Frame(p)]))) ?? false
    }
}
