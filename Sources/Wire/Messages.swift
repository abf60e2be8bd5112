import Plan

/// HELLO: a theme service introduces itself on connecting.
public struct Hello: Sendable, Hashable {
    public var theme: String
    /// The plan version the service validates against.
    public var planVersion: UInt64
    /// The service's software and version, e.g. `koers-theme/0.1.0`.
    public var service: String
    /// The highest sequence the service has assigned so far (0 if none).
    public var lastSequence: UInt64
    public init(theme: String, planVersion: UInt64, service: String, lastSequence: UInt64) {
        self.theme = theme; self.planVersion = planVersion; self.service = service; self.lastSequence = lastSequence
    }
}

/// HEARTBEAT: a theme service is alive; how far it got and what waits in its outbox.
public struct Heartbeat: Sendable, Hashable {
    public var theme: String
    public var lastSequence: UInt64
    public var outboxDepth: UInt64
    public init(theme: String, lastSequence: UInt64, outboxDepth: UInt64) {
        self.theme = theme; self.lastSequence = lastSequence; self.outboxDepth = outboxDepth
    }
}

/// MILESTONE_PROGRESS: a milestone's value on a date.
public struct MilestoneProgress: Sendable, Hashable {
    public var theme: String
    public var item: String
    /// The milestone's value (binary milestones: 0 not done, 1 done).
    public var value: Double
    /// When the progress happened.
    public var asOf: PlanDate
    /// When the team reported it (ms since the Unix epoch); unchanged by resends.
    public var reportedAt: Int64
    public var note: String?
    public var reporter: String?
    public init(theme: String, item: String, value: Double, asOf: PlanDate, reportedAt: Int64, note: String? = nil, reporter: String? = nil) {
        self.theme = theme; self.item = item; self.value = value; self.asOf = asOf
        self.reportedAt = reportedAt; self.note = note; self.reporter = reporter
    }
}

/// INDICATOR_MEASUREMENT: an indicator's value over a period.
public struct IndicatorMeasurement: Sendable, Hashable {
    public var theme: String
    public var item: String
    public var value: Double
    /// The first day of the period the measurement covers.
    public var periodStart: PlanDate
    /// The last day of the period the measurement covers.
    public var periodEnd: PlanDate
    /// When the team reported it (ms since the Unix epoch); unchanged by resends.
    public var reportedAt: Int64
    public var note: String?
    public var reporter: String?
    public init(theme: String, item: String, value: Double, periodStart: PlanDate, periodEnd: PlanDate, reportedAt: Int64,
                note: String? = nil, reporter: String? = nil) {
        self.theme = theme; self.item = item; self.value = value; self.periodStart = periodStart; self.periodEnd = periodEnd
        self.reportedAt = reportedAt; self.note = note; self.reporter = reporter
    }
}

/// ACK: every report of this publisher up to and including `settledThrough` is stored.
public struct Ack: Sendable, Hashable {
    public var settledThrough: UInt64
    public init(settledThrough: UInt64) { self.settledThrough = settledThrough }
}

/// NACK: one report refused, for good; the publisher must not resend it unchanged.
public struct Nack: Sendable, Hashable {
    public var refusedSequence: UInt64
    public var reason: ReasonCode
    public var detail: String
    public init(refusedSequence: UInt64, reason: ReasonCode, detail: String) {
        self.refusedSequence = refusedSequence; self.reason = reason; self.detail = detail
    }
}

/// WELCOME: the aggregator's answer to HELLO.
public struct Welcome: Sendable, Hashable {
    /// The highest sequence of this publisher the aggregator has stored (0 if none).
    public var settledThrough: UInt64
    /// The plan version the aggregator runs.
    public var planVersion: UInt64
    public init(settledThrough: UInt64, planVersion: UInt64) { self.settledThrough = settledThrough; self.planVersion = planVersion }
}

/// The payload of a message, by type.
public enum Payload: Sendable, Hashable {
    case hello(Hello)
    case heartbeat(Heartbeat)
    case milestoneProgress(MilestoneProgress)
    case indicatorMeasurement(IndicatorMeasurement)
    case ack(Ack)
    case nack(Nack)
    case welcome(Welcome)
    /// An operator asks for the state, of one theme or of all.
    case snapshotRequest(theme: String?)
    /// A JSON document (UTF-8) whose schema `docs/protocol.md` gives per type.
    case snapshotReply(document: String)
    /// An operator acknowledges an alert: `{"key", "by", "reason", "until"}`.
    case alertAck(document: String)
    /// `{"ok": true}` or `{"ok": false, "error": "…"}`.
    case alertAckReply(document: String)
    /// A refused snapshot-channel request: the reason and a sentence for a person.
    case snapshotError(reason: ReasonCode, detail: String)
    case alertTransition(document: String)
    case statusChange(document: String)
    /// Quiet stream; since 1.1 with `{"sequence", "topics"}`: each topic's last sequence.
    case streamHeartbeat(document: String?)

    /// The message type this payload travels as.
    public var type: MessageType {
        switch self {
        case .hello: .hello
        case .heartbeat: .heartbeat
        case .milestoneProgress: .milestoneProgress
        case .indicatorMeasurement: .indicatorMeasurement
        case .ack: .ack
        case .nack: .nack
        case .welcome: .welcome
        case .snapshotRequest: .snapshotRequest
        case .snapshotReply: .snapshotReply
        case .alertAck: .alertAck
        case .alertAckReply: .alertAckReply
        case .snapshotError: .snapshotError
        case .alertTransition: .alertTransition
        case .statusChange: .statusChange
        case .streamHeartbeat: .streamHeartbeat
        }
    }
}

/// A whole message: envelope and payload.
public struct WireMessage: Sendable, Hashable {
    public var envelope: Envelope
    public var payload: Payload
    public init(envelope: Envelope, payload: Payload) {
        self.envelope = envelope
        self.payload = payload
    }
    /// A message with an envelope made for the payload.
    public init(_ payload: Payload, sequence: UInt64, sentAt: Int64) {
        self.envelope = Envelope(type: payload.type, sequence: sequence, sentAt: sentAt)
        self.payload = payload
    }
}
