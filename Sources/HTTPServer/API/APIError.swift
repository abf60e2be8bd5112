import Foundation
import Hummingbird
import NIOCore
import Wire

/// An API refusal: an HTTP status and the JSON body every error of the API has,
/// `{"error": SENTENCE, "reason": NAME, "code": REASON CODE, "suggestion": ID}` —
/// `code` and `reason` are the protocol's reason codes (`docs/protocol.md` §6) where one
/// applies (`301 unknown_theme`), `reason` alone otherwise (`unknown_area`, `not_found`).
struct APIError: Error, Sendable {
    var status: HTTPResponse.Status
    var body: Body
    var headers: HTTPFields = [:]

    struct Body: Codable, Sendable {
        var error: String
        var reason: String
        var code: Int?
        var suggestion: String?
    }

    init(_ status: HTTPResponse.Status, _ message: String, reason: String, code: Int? = nil, suggestion: String? = nil) {
        self.status = status
        body = Body(error: message, reason: reason, code: code, suggestion: suggestion)
    }

    init(_ status: HTTPResponse.Status, _ message: String, code: ReasonCode, suggestion: String? = nil) {
        self.init(status, message, reason: code.name, code: Int(code.rawValue), suggestion: suggestion)
    }

    var response: Response {
        var r = JSONBody(body).response(status: status)
        for f in headers { r.headers.append(f) }
        return r
    }

    static func badQuery(_ message: String) -> APIError { APIError(.badRequest, message, reason: "bad_query") }
    static func notFound(_ message: String, suggestion: String? = nil) -> APIError {
        APIError(.notFound, message, reason: "not_found", suggestion: suggestion)
    }
    static func unauthorized(_ message: String) -> APIError {
        var e = APIError(.unauthorized, message, reason: "unauthorized")
        e.headers[.wwwAuthenticate] = #"Bearer realm="koers""#
        return e
    }
}
