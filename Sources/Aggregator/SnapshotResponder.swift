import Feed
import Foundation
import Plan
import Status
import StreamProtocol
import Wire
import ZeroMQ

/// The snapshot channel's answers: a snapshot, an acknowledgement recorded, or
/// SNAPSHOT_ERROR with a reason code for every request refused — malformed (any
/// number of frames, any broken envelope or payload), of the wrong type, of an
/// unknown theme, or not permitted to the key's role (`docs/protocol.md` §3.2).
struct SnapshotResponder: Sendable {
    let keeper: StatusKeeper
    let access: Access
    let codec = WireCodec()

    /// The reply to one message from the ROUTER (routing id first), or nil when the
    /// message has no routing id to answer to.
    func reply(to m: Message) async -> (routing: Frame, requestID: UInt64, payload: Payload)? {
        guard m.count >= 1 else { return nil }
        let routing = m[0]
        guard m.count == 3 else {
            return (routing, 0, .snapshotError(reason: .frameCount, detail: "expected 2 frames (envelope, payload), got \(m.count - 1)"))
        }
        let msg: WireMessage
        do throws(WireError) {
            // An operator stamps sent_at with its own clock, which may differ from a simulated one.
            msg = try codec.decode(envelope: m[1].bytes, payload: m[2].bytes, now: Int64.max / 2)
        } catch {
            let id = m[1].bytes.withUnsafeBytes { b in (try? Envelope(decoding: b))?.sequence } ?? 0
            return (routing, id, .snapshotError(reason: error.code, detail: error.description))
        }
        let id = msg.envelope.sequence
        let role = access.role(of: m[1].userID)
        switch msg.payload {
        case .snapshotRequest(let theme):
            return await snapshot(theme: theme, role: role, routing: routing, id: id)
        case .alertAck(let doc):
            switch await acknowledge(doc, role: role) {
            case .success(let answer): return (routing, id, .alertAckReply(document: answer))
            case .failure(let e): return (routing, id, .snapshotError(reason: e.code, detail: e.message))
            }
        default:
            return (routing, id, .snapshotError(reason: .wrongDirection,
                                                detail: "\(msg.envelope.type) is not accepted on the snapshot channel; send SNAPSHOT_REQUEST or ALERT_ACK"))
        }
    }

    func snapshot(theme: String?, role: Access.Role, routing: Frame, id: UInt64) async -> (routing: Frame, requestID: UInt64, payload: Payload) {
        let themes = keeper.themeIDs
        if let theme, !themes.contains(theme) {
            let near = closest(theme, among: Set(themes)).map { "; did you mean `\($0)`?" } ?? ""
            return (routing, id, .snapshotError(reason: .unknownTheme, detail: "filter_theme `\(theme)` is not a theme of the plan\(near)"))
        }
        var theme = theme
        if case .theme(let own) = role {
            // A theme key reads its own theme only.
            guard theme == nil || theme == own else {
                return (routing, id, .snapshotError(reason: .notPermitted, detail: "the key of theme \(own) may read only its own theme's snapshot, not \(theme!)'s"))
            }
            theme = own
        }
        let snap = await keeper.snapshot(theme: theme)
        // A snapshot reply's envelope sequence is the stream sequence it holds at.
        return (routing, snap.sequence, .snapshotReply(document: StreamDocuments.encode(snap)))
    }

    func acknowledge(_ doc: String, role: Access.Role) async -> Result<String, AckRefusal> {
        let identity: String
        var scope: Set<String>?
        switch role {
        case .theme(let t):
            return .failure(AckRefusal(code: .notPermitted, message: "the key of theme \(t) may not acknowledge alerts; use an operator key (koers keys generate operator:NAME)"))
        case .operator(let name, let themes):
            identity = "operator:\(name)"
            scope = themes
        case .unauthenticated:
            identity = "operator"
        }
        guard let req = try? StreamDocuments.decode(StreamDocuments.AckRequest.self, from: doc) else {
            return .failure(AckRefusal(code: .badDocument, message: #"the document must be {"key": …, "reason": …, "by": … or null, "until": "YYYY-MM-DD" or null}"#))
        }
        return await keeper.acknowledge(req, identity: identity, scope: scope)
            .map { StreamDocuments.encode(StreamDocuments.AckReply(ok: true)) }
    }
}
