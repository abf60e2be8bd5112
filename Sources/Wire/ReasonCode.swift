/// Why a message was refused: the code in a NACK and in every `WireError`.
///
/// Codes are grouped by the hundred: 1xx framing, 2xx payload, 3xx plan and
/// authorisation, 4xx sequencing, 5xx the aggregator itself. `docs/protocol.md` lists
/// them all; a receiver that meets a code it does not know treats it by its hundred.
public struct ReasonCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    // 1xx: framing
    public static let frameCount = ReasonCode(rawValue: 100)
    public static let envelopeSize = ReasonCode(rawValue: 101)
    public static let badMagic = ReasonCode(rawValue: 102)
    public static let unsupportedVersion = ReasonCode(rawValue: 103)
    public static let unknownType = ReasonCode(rawValue: 104)
    public static let reservedBits = ReasonCode(rawValue: 105)
    public static let payloadTooLarge = ReasonCode(rawValue: 106)
    public static let wrongDirection = ReasonCode(rawValue: 107)
    public static let badSequence = ReasonCode(rawValue: 108)
    // 2xx: payload
    public static let truncatedField = ReasonCode(rawValue: 200)
    public static let missingField = ReasonCode(rawValue: 201)
    public static let duplicateField = ReasonCode(rawValue: 202)
    public static let unknownField = ReasonCode(rawValue: 203)
    public static let fieldNotAllowed = ReasonCode(rawValue: 204)
    public static let fieldSize = ReasonCode(rawValue: 205)
    public static let invalidUTF8 = ReasonCode(rawValue: 206)
    public static let stringTooLong = ReasonCode(rawValue: 207)
    public static let notFinite = ReasonCode(rawValue: 208)
    public static let badDate = ReasonCode(rawValue: 209)
    public static let outOfRange = ReasonCode(rawValue: 210)
    public static let futureTimestamp = ReasonCode(rawValue: 211)
    public static let invalidID = ReasonCode(rawValue: 212)
    public static let tooManyFields = ReasonCode(rawValue: 213)
    public static let badDocument = ReasonCode(rawValue: 214)
    // 3xx: plan and authorisation
    public static let unknownItem = ReasonCode(rawValue: 300)
    public static let unknownTheme = ReasonCode(rawValue: 301)
    public static let itemNotInTheme = ReasonCode(rawValue: 302)
    public static let identityMismatch = ReasonCode(rawValue: 303)
    public static let wrongItemKind = ReasonCode(rawValue: 304)
    public static let valueOutOfRange = ReasonCode(rawValue: 305)
    public static let outsideHorizon = ReasonCode(rawValue: 306)
    // 307 (plan_version_mismatch in 1.0) is reserved: never sent.
    public static let notPermitted = ReasonCode(rawValue: 308)
    public static let unknownAlert = ReasonCode(rawValue: 309)
    public static let notFiring = ReasonCode(rawValue: 310)
    // 4xx: sequencing
    // 400 (duplicate in 1.0) is reserved: a resend of a stored report gets an ACK.
    public static let sequenceConflict = ReasonCode(rawValue: 401)
    public static let sequenceGap = ReasonCode(rawValue: 402)
    // 5xx: the aggregator
    public static let internalError = ReasonCode(rawValue: 500)
    /// The sender sends faster than it reads its replies: its messages are not read until
    /// it reads them (not final: resend once caught up).
    public static let tooFast = ReasonCode(rawValue: 502)
    public static let storageUnavailable = ReasonCode(rawValue: 503)

    /// Whether a NACK with this code settles the report for good (§6 of the spec): the
    /// sender must not resend it unchanged. Not final: `211 future_timestamp` (resend
    /// once the clocks agree), `402 sequence_gap` (resend from the expected sequence)
    /// and every 5xx (the aggregator could not decide; resend later).
    public var isFinal: Bool {
        !(self == .futureTimestamp || self == .sequenceGap || rawValue / 100 == 5)
    }

    /// The code's name as the spec writes it (`missing_field`).
    public var name: String { Self.names[rawValue] ?? "code_\(rawValue)" }

    public var description: String { "\(rawValue) \(name)" }

    static let names: [UInt16: String] = [
        100: "frame_count", 101: "envelope_size", 102: "bad_magic", 103: "unsupported_version", 104: "unknown_type",
        105: "reserved_bits", 106: "payload_too_large", 107: "wrong_direction", 108: "bad_sequence",
        200: "truncated_field", 201: "missing_field", 202: "duplicate_field", 203: "unknown_field", 204: "field_not_allowed",
        205: "field_size", 206: "invalid_utf8", 207: "string_too_long", 208: "not_finite", 209: "bad_date",
        210: "out_of_range", 211: "future_timestamp", 212: "invalid_id", 213: "too_many_fields", 214: "bad_document",
        300: "unknown_item", 301: "unknown_theme", 302: "item_not_in_theme", 303: "identity_mismatch",
        304: "wrong_item_kind", 305: "value_out_of_range", 306: "outside_horizon", 308: "not_permitted", 309: "unknown_alert", 310: "not_firing",
        401: "sequence_conflict", 402: "sequence_gap",
        500: "internal_error", 502: "too_fast", 503: "storage_unavailable",
    ]
}

/// A message that could not be decoded or was refused, with its reason code and the
/// place: the frame and, inside the payload, the field.
public struct WireError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The reason, as sent back in a NACK.
    public var code: ReasonCode
    /// A sentence for a person: what is wrong and where.
    public var message: String
    /// The frame index (0 = envelope, 1 = payload), when known.
    public var frame: Int?
    /// The field's name, when the problem is in one.
    public var field: String?

    public init(_ code: ReasonCode, _ message: String, frame: Int? = nil, field: String? = nil) {
        self.code = code
        self.message = message
        self.frame = frame
        self.field = field
    }

    public var description: String {
        var place = ""
        if let frame { place += "frame \(frame)" }
        if let field { place += place.isEmpty ? "field \(field)" : ", field \(field)" }
        return "\(code): \(place.isEmpty ? "" : place + ": ")\(message)"
    }
}
