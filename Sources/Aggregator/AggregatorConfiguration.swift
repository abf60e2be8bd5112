import Plan
import Wire
import ZeroMQ

/// How the aggregator listens, whom it trusts and where it keeps its data.
public struct AggregatorConfiguration: Sendable {
    /// The ingest endpoint theme services connect to.
    public var ingestEndpoint: String = "tcp://127.0.0.1:7401"
    /// The aggregator's own CURVE key pair; nil only in plain mode.
    public var keyPair: CurveKeyPair?
    /// Trusted client keys and the identity each authenticates as (theme ids).
    public var trustedKeys: [CurvePublicKey: String] = [:]
    /// Accept unencrypted, unauthenticated connections. Only with an explicit flag.
    public var plain = false
    /// The SQLite file.
    public var storePath: String
    /// The plan reports are checked against.
    public var plan: Plan
    /// The plan's version, announced in WELCOME.
    public var planVersion: UInt64
    /// Most reports stored per transaction.
    public var batchLimit: Int = 4096

    public init(storePath: String, plan: Plan) {
        self.storePath = storePath
        self.plan = plan
        self.planVersion = UInt64(plan.version)
    }
}
