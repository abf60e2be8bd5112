// libFuzzer target: the wire codec as the aggregator's two ROUTER sockets call it.
//
// Input: byte 0 picks the channel (bit 0 clear: ingest, set: snapshot; bit 1 set: the
// sender is authenticated as `work`), byte 1 is the length of the envelope frame; the
// envelope frame follows, then the payload frame (the rest). Seeds: Fuzz/seeds/wire,
// the golden vectors of docs/protocol.md §8 (Fuzz/seeds.py).
//
// Besides crashes, sanitizer findings and hangs, it checks one property: a message that
// decodes re-encodes to a message that decodes to the same value, with the same
// envelope bytes.
import Plan
import Wire

/// The golden vectors' `sent_at` plus one second, so they are not in the future.
let now: Int64 = 1_669_723_201_000
let codec = WireCodec()
let validator: ReportValidator = {
    do { return ReportValidator(catalog: PlanCatalog(try PlanLoader.loadDefault(path: nil))) } catch {
        fatalError("the built-in plan does not load: \(error)")
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWire(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let snapshot = input[0] & 1 == 1, identity: String? = input[0] & 2 == 2 ? "work" : nil
    let envelopeLength = min(Int(input[1]), size - 2)
    let envelope = UnsafeRawBufferPointer(rebasing: input[2..<(2 + envelopeLength)])
    let payload = UnsafeRawBufferPointer(rebasing: input[(2 + envelopeLength)...])
    if snapshot {
        // SnapshotResponder: its own clock is not compared (operators' clocks differ).
        _ = try? Envelope(decoding: envelope)
        guard let m = try? codec.decode(envelope: envelope, payload: payload, now: Int64.max / 2) else { return 0 }
        roundTrip(m, now: Int64.max / 2)
    } else {
        // IngestStage: the envelope alone first (sequence checks), then the message,
        // then the plan and the sender's identity.
        guard (try? Envelope(decoding: envelope)) != nil else { return 0 }
        guard let m = try? codec.decode(envelope: envelope, payload: payload, now: now) else { return 0 }
        roundTrip(m, now: now)
        if m.envelope.type.isIngest { _ = try? validator.check(m.payload, identity: identity) }
    }
    return 0
}

func roundTrip(_ m: WireMessage, now: Int64) {
    let (e, p) = codec.encode(m)
    let again: WireMessage
    do { again = try codec.decode(envelope: e, payload: p, now: now) } catch {
        fatalError("\(m) decoded, but its re-encoding does not: \(error)")
    }
    precondition(again == m, "\(m) re-encodes to \(again)")
    precondition(e == m.envelope.bytes)
}
