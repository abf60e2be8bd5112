import Foundation
import Plan
import Wire

/// Decoding speed of the wire codec against Foundation's JSONDecoder on the same
/// report, in this process: the measurement behind the encoding choice in
/// docs/protocol.md §2.3.
enum CodecBench {
    struct JSONReport: Codable {
        var theme: String
        var item: String
        var value: Double
        var as_of: String
        var reported_at: Int64
        var note: String?
    }

    static func run(count: Int) throws -> (wire: Double, json: Double) {
        let now: Int64 = 1_669_723_200_000
        let codec = WireCodec()
        let message = WireMessage(.milestoneProgress(MilestoneProgress(
            theme: "work", item: "bvs-werksferen", value: 3, asOf: PlanDate(iso: "2022-11-01")!, reportedAt: now - 1000,
            note: "Werksfeer logistiek gestart met 11 werkgevers uit de regio Parkstad")), sequence: 1, sentAt: now)
        let (env, payload) = codec.encode(message)
        var checksum = 0.0
        let wireStart = ContinuousClock.now
        try env.withUnsafeBytes { e in
            try payload.withUnsafeBytes { p in
                for _ in 0..<count {
                    if case .milestoneProgress(let m) = try codec.decode(envelope: e, payload: p, now: now).payload { checksum += m.value }
                }
            }
        }
        let wire = Double(count) / (ContinuousClock.now - wireStart).seconds

        let json = try JSONEncoder().encode(JSONReport(theme: "work", item: "bvs-werksferen", value: 3, as_of: "2022-11-01",
                                                       reported_at: now - 1000, note: "Werksfeer logistiek gestart met 11 werkgevers uit de regio Parkstad"))
        let decoder = JSONDecoder()
        let jsonCount = max(1, count / 5)
        let jsonStart = ContinuousClock.now
        for _ in 0..<jsonCount { checksum += try decoder.decode(JSONReport.self, from: json).value }
        let jsonRate = Double(jsonCount) / (ContinuousClock.now - jsonStart).seconds
        precondition(checksum > 0)
        return (wire, jsonRate)
    }
}
