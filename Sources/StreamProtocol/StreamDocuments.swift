import Foundation
import Plan
import Status

/// The JSON documents on the operators' channels (`docs/status-model.md`, "Stream documents").
public enum StreamDocuments {
    /// STATUS_CHANGE: one item's or roll-up node's state changed.
    public struct StatusChange: Codable, Sendable {
        public var sequence: UInt64
        public var date: PlanDate
        public var item: String
        public var from: ItemState?
        public var to: ItemState
        public var why: String
        public var evidence: Evidence?
        public var progress: Double?
        /// The topic it was published on (`status.<theme>`, `status.programme`).
        public var topic: String?
        /// The stream sequence of the previous message on the same topic (0: none):
        /// how a subscriber filtered to some topics tells a lost message from one it
        /// filtered out. Always written since protocol 1.1.
        public var previous: UInt64?
        public init(sequence: UInt64, date: PlanDate, item: String, from: ItemState?, to: ItemState, why: String, evidence: Evidence?, progress: Double?,
                    topic: String? = nil, previous: UInt64? = nil) {
            self.sequence = sequence; self.date = date; self.item = item; self.from = from; self.to = to
            self.why = why; self.evidence = evidence; self.progress = progress; self.topic = topic; self.previous = previous
        }
    }

    /// ALERT_TRANSITION: an alert moved in its lifecycle.
    public struct AlertTransitionDocument: Codable, Sendable {
        public var sequence: UInt64
        public var date: PlanDate
        public var key: String
        public var from: AlertState?
        public var to: AlertState
        public var alert: Alert
        /// The topic it was published on (`alert.<theme>.<severity>`).
        public var topic: String?
        /// The stream sequence of the previous message on the same topic (0: none).
        public var previous: UInt64?
        public init(sequence: UInt64, date: PlanDate, key: String, from: AlertState?, to: AlertState, alert: Alert,
                    topic: String? = nil, previous: UInt64? = nil) {
            self.sequence = sequence; self.date = date; self.key = key; self.from = from; self.to = to; self.alert = alert
            self.topic = topic; self.previous = previous
        }
    }

    /// SNAPSHOT_REPLY: everything an operator needs to start from.
    public struct Snapshot: Codable, Sendable {
        public var sequence: UInt64
        public var date: PlanDate
        public var planVersion: Int
        public var items: [ItemStatus]
        public var rollups: [Rollup]
        public var alerts: [Alert]
        public var silentThemes: [String]
        /// Every topic's latest stream sequence when the snapshot was taken (since 1.1):
        /// a filtered subscriber's starting point for the `previous` links.
        public var topics: [String: UInt64]?
        public init(sequence: UInt64, date: PlanDate, planVersion: Int, items: [ItemStatus], rollups: [Rollup], alerts: [Alert], silentThemes: [String],
                    topics: [String: UInt64]? = nil) {
            self.sequence = sequence; self.date = date; self.planVersion = planVersion; self.items = items
            self.rollups = rollups; self.alerts = alerts; self.silentThemes = silentThemes; self.topics = topics
        }
    }

    /// STREAM_HEARTBEAT's document (since 1.1): the last sequence, and every topic's.
    public struct Heartbeat: Codable, Sendable, Equatable {
        public var sequence: UInt64
        public var topics: [String: UInt64]
        public init(sequence: UInt64, topics: [String: UInt64]) { self.sequence = sequence; self.topics = topics }
    }

    /// A roll-up node's state and its counts.
    public struct Rollup: Codable, Sendable {
        public var node: String
        public var state: ItemState
        public var counts: [String: Int]
        public init(node: String, state: ItemState, counts: [String: Int]) { self.node = node; self.state = state; self.counts = counts }
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    public static func encode<T: Encodable>(_ value: T) -> String {
        String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Parses one document from its JSON text.
    public static func decode<T: Decodable>(_ type: T.Type, from json: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(json.utf8))
    }
}

// MARK: - Acknowledgements

extension StreamDocuments {
    /// ALERT_ACK: an operator takes an alert on.
    public struct AckRequest: Codable, Sendable, Equatable {
        /// The alert's key, `RULE:SUBJECT`.
        public var key: String
        /// Who, as the person at the keyboard names themselves; recorded after the key's identity.
        public var by: String?
        /// Why (required, not blank).
        public var reason: String
        /// Until this date (`YYYY-MM-DD`, not in the past); nil for until it resolves.
        public var until: String?
        public init(key: String, by: String?, reason: String, until: String?) {
            self.key = key; self.by = by; self.reason = reason; self.until = until
        }
    }

    /// ALERT_ACK_REPLY: whether the acknowledgement was recorded, and if not, why.
    public struct AckReply: Codable, Sendable, Equatable {
        public var ok: Bool
        public var error: String?
        public init(ok: Bool, error: String? = nil) { self.ok = ok; self.error = error }
    }
}
