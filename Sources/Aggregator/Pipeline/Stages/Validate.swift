import Plan
import Wire

/// Stage 4, validate: the payload decoded strictly (`docs/protocol.md` §2), of a type
/// the ingest channel takes, naming the key's own theme and items of the plan within
/// their ranges (`Wire.ReportValidator`).
struct Validate: Sendable {
    let codec = WireCodec()
    let validator: ReportValidator

    init(index: PlanIndex) { validator = ReportValidator(catalog: PlanCatalog(index: index)) }

    func callAsFunction(_ f: Decode.Framed, now: Int64) -> Result<WireMessage, WireError> {
        do throws(WireError) {
            let decoded = try f.envelopeFrame.withUnsafeBytes { (e: UnsafeRawBufferPointer) throws(WireError) in
                try f.payloadFrame.withUnsafeBytes { (p: UnsafeRawBufferPointer) throws(WireError) in try codec.decode(envelope: e, payload: p, now: now) }
            }
            guard decoded.envelope.type.isIngest else {
                throw WireError(.wrongDirection, "\(decoded.envelope.type) is not accepted on the ingest channel", frame: 0)
            }
            try validator.check(decoded.payload, identity: f.identity)
            return .success(decoded)
        } catch {
            return .failure(error)
        }
    }
}
