import Foundation
import Feed
import Plan
import StreamProtocol
import Wire

/// The one way an alert is acknowledged, whichever channel the request came by (the
/// snapshot channel's ALERT_ACK, `POST /api/v1/alerts/{key}/ack`): the checks, then the
/// pipeline records it with the identity that asked. Runs on the ingest thread, so the
/// alert checked is the alert acknowledged.
enum Acknowledger {
    /// - Parameters:
    ///   - identity: the authenticated operator (`operator:NAME`; `operator` in plain mode).
    ///   - scope: the themes it may acknowledge (nil: every theme).
    static func acknowledge(_ req: StreamDocuments.AckRequest, identity: String, scope: Set<String>?, in pipeline: Pipeline) -> Result<Void, AckRefusal> {
        guard !req.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            return .failure(AckRefusal(code: .missingField, message: "an acknowledgement needs a reason"))
        }
        var until: PlanDate?
        if let u = req.until {
            guard let d = PlanDate(iso: u) else { return .failure(AckRefusal(code: .badDate, message: "until `\(u)` is not a YYYY-MM-DD date")) }
            until = d
        }
        let today = pipeline.core.today
        if let until, until < today {
            return .failure(AckRefusal(code: .outOfRange, message: "until \(until.iso) is before the aggregator's date \(today.iso); give a later date, or none to hold it until it resolves"))
        }
        let alert = pipeline.core.alerts.openAlerts.first { $0.key == req.key }
        if let alert, alert.state != .firing && alert.state != .acknowledged {
            return .failure(AckRefusal(code: .notFiring, message: "alert `\(req.key)` is \(alert.state.rawValue); only a firing alert can be acknowledged"))
        }
        if let scope, let alert, !scope.contains(alert.theme ?? "programme") {
            return .failure(AckRefusal(code: .notPermitted, message: "\(identity) may acknowledge alerts of \(scope.sorted().joined(separator: ", ")) only; `\(req.key)` is \(alert.theme ?? "the programme")'s"))
        }
        switch pipeline.acknowledge(key: req.key, identity: identity, person: req.by, reason: req.reason, until: until) {
        case .success: return .success(())
        case .failure(.refused(let e)): return .failure(AckRefusal(code: alert == nil ? .unknownAlert : .notFiring, message: e.message))
        case .failure(.notStored(let why)): return .failure(AckRefusal(code: .storageUnavailable, message: "the acknowledgement could not be stored: \(why)"))
        }
    }
}
