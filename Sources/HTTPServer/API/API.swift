import Feed
import Foundation
import History
import Hummingbird
import NIOCore
import Plan
import Status
import StreamProtocol
import Synchronization
import Wire

/// The handlers of the JSON API under `/api/v1/` (`docs/openapi.yaml`,
/// `docs/operations.md` "HTTP API"). Everything comes from the ``StatusFeed`` and the
/// stored history (`History.StoreHistory` at `feed.storePath`); routes are registered
/// in ``KoersHTTPServer/makeRouter()``.
struct API: Sendable {
    let feed: any StatusFeed
    let configuration: HTTPConfiguration
    let tokens: HTTPTokenBook
    let index: PlanIndex
    let history: HistoryHandle

    init(feed: any StatusFeed, configuration: HTTPConfiguration, tokens: HTTPTokenBook) {
        self.feed = feed
        self.configuration = configuration
        self.tokens = tokens
        index = PlanIndex(feed.plan)
        history = HistoryHandle(path: feed.storePath)
    }

    var plan: Plan { feed.plan }

    // MARK: Credentials

    /// The operator a request's bearer token names; nil for an anonymous read, which only a
    /// loopback server allows. Writes always need a token (`docs/protocol.md` §1.1: no
    /// anonymous write, in plain mode neither).
    func authorize(_ request: Request, write: Bool) throws(APIError) -> HTTPTokenBook.Operator? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                throw .unauthorized("the Authorization header must be `Bearer TOKEN`")
            }
            guard let who = tokens.holder(of: parts[1].trimmingCharacters(in: .whitespaces)) else {
                throw .unauthorized("unknown token: make one with `koers keys token operator:NAME --keys KEYS`, then SIGHUP the aggregator")
            }
            return who
        }
        if write {
            throw .unauthorized("acknowledging needs an operator's token: `Authorization: Bearer TOKEN` (`koers keys token operator:NAME`)")
        }
        // A browser's pages and its EventSource send the token as the cookie the login
        // page set (reads only: a write needs the token itself, so no other site can
        // make a browser write).
        if let cookie = request.cookies["koers_token"]?.value, !cookie.isEmpty {
            guard let who = tokens.holder(of: cookie) else { throw .unauthorized("the login has expired (the token is no longer known): log in again at /login") }
            return who
        }
        if !configuration.isLoopback {
            throw .unauthorized("this server listens beyond loopback (\(configuration.host)): reads need an operator's token too, `Authorization: Bearer TOKEN`")
        }
        return nil
    }

    // MARK: Query values

    func themeParameter(_ request: Request, allowProgramme: Bool = false) throws(APIError) -> String? {
        guard let t = request.uri.queryParameters.get("theme") else { return nil }
        if allowProgramme && t == "programme" { return t }
        guard let error = OperatorInput.checkTheme(t, in: plan) else { return t }
        throw APIError(.badRequest, error, code: .unknownTheme, suggestion: closest(t, among: Set(plan.themes.map(\.id))))
    }

    func areaParameter(_ request: Request) throws(APIError) -> String? {
        guard let a = request.uri.queryParameters.get("area") else { return nil }
        guard let error = OperatorInput.checkArea(a, in: plan) else { return a }
        throw APIError(.badRequest, error, reason: "unknown_area", suggestion: closest(a, among: Set(plan.areas.map(\.id))))
    }

    func dateParameter(_ request: Request, _ name: String) throws(APIError) -> PlanDate? {
        guard let text = request.uri.queryParameters.get(name) else { return nil }
        guard let d = PlanDate(iso: text) else { throw APIError(.badRequest, "\(name) must be a YYYY-MM-DD date, not `\(text)`", code: .badDate) }
        return d
    }

    // MARK: GET /api/v1/status

    func status(_ request: Request) async throws -> Response {
        _ = try authorize(request, write: false)
        let theme = try themeParameter(request), area = try areaParameter(request), asOf = try dateParameter(request, "as_of")
        var snap: StreamDocuments.Snapshot
        if let asOf {
            let (plan, history) = (self.plan, self.history)
            snap = try await blocking { StreamDocuments.Snapshot(replaying: plan, asOf: asOf, observations: try history.open().itemObservations(asOf: asOf)) }
            snap.topics = snap.topics ?? [:]  // a replay holds at no stream position
        } else {
            snap = await feed.snapshot(theme: theme)
        }
        return JSONBody(snap.narrowed(plan: plan, theme: theme, area: area)).response(status: .ok)
    }

    // MARK: GET /api/v1/alerts

    struct Alerts: Encodable, Sendable {
        var sequence: UInt64
        var date: PlanDate
        var alerts: [Alert]
    }

    func alerts(_ request: Request) async throws -> Response {
        _ = try authorize(request, write: false)
        let theme = try themeParameter(request, allowProgramme: true)
        var severity: Severity?
        if let s = request.uri.queryParameters.get("severity") {
            guard let v = Severity(rawValue: s) else { throw APIError.badQuery("severity must be info, warning or critical, not `\(s)`") }
            severity = v
        }
        var state: AlertState?
        if let s = request.uri.queryParameters.get("state") {
            guard let v = AlertState(rawValue: s), v != .resolved else {
                throw APIError.badQuery("state must be pending, firing, acknowledged or flapping (the states of an open alert), not `\(s)`")
            }
            state = v
        }
        let snap = await feed.snapshot(theme: nil)
        let open = snap.alerts.filter { a in
            (theme == nil || (a.theme ?? "programme") == theme) && (severity.map { a.severity >= $0 } ?? true) && (state.map { a.state == $0 } ?? true)
        }
        return JSONBody(Alerts(sequence: snap.sequence, date: snap.date, alerts: open)).response(status: .ok)
    }

    // MARK: GET /api/v1/items/{id}

    struct Point: Codable, Sendable { var date: PlanDate; var value: Double }

    struct ItemDocument: Encodable, Sendable {
        struct Entry: Encodable, Sendable {
            var id: String
            var name: String
            /// `milestone` or `indicator`.
            var kind: String
            var theme: String
            var goal: String
            var intervention: String?
            var owner: String?
            var areas: [String]
            var unit: String
            var baseline: Double
            var target: Double
            /// A milestone's start and due date; an indicator's baseline and target year end.
            var start: PlanDate
            var due: PlanDate
            /// `binary` or `quantitative` (milestones).
            var milestoneKind: String?
            var cadence: String
            var dependsOn: [String]?
            /// The points the expected path runs through: (start, baseline), the
            /// checkpoints, (due, target).
            var path: [Point]
        }
        struct History: Encodable, Sendable {
            var reports: [StoreHistory.StoredReport]
            var statusChanges: [StreamDocuments.StatusChange]
            var alertTransitions: [StreamDocuments.AlertTransitionDocument]
        }
        var sequence: UInt64
        var date: PlanDate
        var item: Entry
        var status: ItemStatus?
        var alerts: [Alert]
        var history: History
        /// The expected value on the first of each month (milestones) or at each year's end
        /// (indicators) along the path, and at its points.
        var expected: [Point]
    }

    func item(_ request: Request, _ context: some RequestContext) async throws -> Response {
        _ = try authorize(request, write: false)
        let id = context.parameters.get("id")?.removingPercentEncoding ?? ""
        guard let position = index.position(of: id) else {
            let near = closest(id, among: Set(index.ids))
            throw APIError(.notFound, "no item `\(id)` in the plan" + (near.map { "; did you mean `\($0)`?" } ?? ""), code: .unknownItem, suggestion: near)
        }
        let model = StatusModel()
        let entry: ItemDocument.Entry
        var expected: [Point]
        if let placed = index.milestone(at: position) {
            let m = placed.milestone
            let i = index.interventions[placed.intervention]
            let path = [Point(date: m.start, value: m.baseline)] + m.checkpoints.map { Point(date: $0.date, value: $0.value) } + [Point(date: m.due, value: m.target)]
            entry = .init(id: m.id, name: m.name, kind: "milestone", theme: placed.theme, goal: placed.goal, intervention: placed.intervention,
                          owner: i?.owner, areas: m.areas.isEmpty ? (i?.areas ?? []) : m.areas, unit: m.unit, baseline: m.baseline, target: m.target,
                          start: m.start, due: m.due, milestoneKind: m.kind.rawValue, cadence: "\(m.cadence)", dependsOn: m.dependsOn, path: path)
            var dates = Set(path.map(\.date))
            var d = PlanDate(year: m.start.components.year, month: m.start.components.month, day: 1)!.adding(months: 1)
            while d < m.due && dates.count < 1_000 { dates.insert(d); d = d.adding(months: 1) }
            expected = dates.sorted().map { Point(date: $0, value: model.expected(m, on: $0)) }
        } else if let placed = index.indicator(at: position) {
            let x = placed.indicator
            let start = PlanDate(year: x.baselineYear, month: 12, day: 31)!, end = PlanDate(year: x.targetYear, month: 12, day: 31)!
            entry = .init(id: x.id, name: x.name, kind: "indicator", theme: placed.theme, goal: placed.goal, intervention: nil, owner: nil, areas: [],
                          unit: x.unit, baseline: x.baseline, target: x.target, start: start, due: end, milestoneKind: nil,
                          cadence: "\(x.cadence)", dependsOn: nil, path: [Point(date: start, value: x.baseline), Point(date: end, value: x.target)])
            expected = (x.baselineYear...max(x.baselineYear, x.targetYear)).map { y in
                let d = PlanDate(year: y, month: 12, day: 31)!
                return Point(date: d, value: model.expected(x, on: d))
            }
        } else {
            throw APIError.notFound("no item `\(id)` in the plan")
        }
        let history = self.history
        let (reports, stream) = try await blocking { () throws -> ([StoreHistory.StoredReport], [StoreHistory.StreamMessage]) in
            let h = try history.open()
            return (try h.reports(item: id), try h.streamMessages(item: id))
        }
        var changes: [StreamDocuments.StatusChange] = [], transitions: [StreamDocuments.AlertTransitionDocument] = []
        for m in stream {
            if m.type == .statusChange, let c = try? StreamDocuments.decode(StreamDocuments.StatusChange.self, from: m.document) { changes.append(c) }
            if m.type == .alertTransition, let t = try? StreamDocuments.decode(StreamDocuments.AlertTransitionDocument.self, from: m.document) { transitions.append(t) }
        }
        let snap = await feed.snapshot(theme: entry.theme)
        let doc = ItemDocument(sequence: snap.sequence, date: snap.date, item: entry, status: snap.items.first { $0.item == id },
                               alerts: snap.alerts.filter { $0.subject == id },
                               history: .init(reports: reports, statusChanges: changes, alertTransitions: transitions), expected: expected)
        return JSONBody(doc).response(status: .ok)
    }

    // MARK: GET /api/v1/acknowledgements

    struct Acknowledgements: Encodable, Sendable { var acknowledgements: [StoreHistory.Acknowledgement] }

    func acknowledgements(_ request: Request) async throws -> Response {
        _ = try authorize(request, write: false)
        let alert = request.uri.queryParameters.get("alert")
        if let alert, alert.isEmpty { throw APIError.badQuery("alert must be an alert key (RULE:SUBJECT), not empty") }
        let history = self.history
        let log = try await blocking { try history.open().acknowledgements(alert: alert) }
        return JSONBody(Acknowledgements(acknowledgements: log)).response(status: .ok)
    }

    // MARK: POST /api/v1/alerts/{key}/ack

    struct AckBody: Decodable, Sendable {
        var reason: String
        var by: String?
        var until: String?
    }

    func acknowledge(_ request: Request, _ context: some RequestContext) async throws -> Response {
        guard let who = try authorize(request, write: true) else { throw APIError.unauthorized("acknowledging needs an operator's token") }
        let key = context.parameters.get("key")?.removingPercentEncoding ?? ""
        var buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: 4_096) } catch {
            throw APIError(.contentTooLarge, "an acknowledgement is at most 4,096 bytes", code: .payloadTooLarge)
        }
        let data = Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
        let body: AckBody
        do { body = try JSONDecoder().decode(AckBody.self, from: data) } catch DecodingError.keyNotFound(let k, _) {
            throw APIError(.badRequest, "the body has no `\(k.stringValue)`: send {\"reason\": WHY, \"by\": WHO, \"until\": \"YYYY-MM-DD\" or null}", code: .missingField)
        } catch {
            throw APIError(.badRequest, "the body must be a JSON object {\"reason\": WHY, \"by\": WHO or null, \"until\": \"YYYY-MM-DD\" or null}", code: .badDocument)
        }
        let ack = StreamDocuments.AckRequest(key: key, by: body.by, reason: body.reason, until: body.until)
        switch await feed.acknowledge(ack, identity: who.identity, scope: who.scope) {
        case .success:
            return JSONBody(StreamDocuments.AckReply(ok: true)).response(status: .ok)
        case .failure(let refusal):
            var suggestion: String?
            if refusal.code == .unknownAlert {
                suggestion = closest(key, among: Set(await feed.snapshot(theme: nil).alerts.map(\.key)))
            }
            throw APIError(Self.status(of: refusal.code), refusal.message, code: refusal.code, suggestion: suggestion)
        }
    }

    /// The HTTP status of an acknowledgement's refusal.
    static func status(of code: ReasonCode) -> HTTPResponse.Status {
        switch code {
        case .notPermitted: .forbidden
        case .unknownAlert: .notFound
        case .notFiring: .conflict
        case .storageUnavailable, .internalError: .serviceUnavailable
        case .missingField, .badDocument, .badDate, .outOfRange: .badRequest
        default: code.rawValue >= 500 ? .serviceUnavailable : .badRequest
        }
    }
}

/// The stored history, opened once on first use (the aggregator creates the store
/// before the HTTP server starts).
final class HistoryHandle: Sendable {
    let path: String
    private let opened = Mutex<StoreHistory?>(nil)
    init(path: String) { self.path = path }

    func open() throws -> StoreHistory {
        try opened.withLock { h in
            if let h { return h }
            do {
                let new = try StoreHistory(path: path)
                h = new
                return new
            } catch {
                throw APIError(.serviceUnavailable, "the store at \(path) cannot be read: \(error)", code: .storageUnavailable)
            }
        }
    }
}

/// Runs blocking work (SQLite reads of the whole store) on a dispatch thread, not on
/// Swift's cooperative pool, which has one thread per core.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        DispatchQueue.global().async { c.resume(with: Result { try body() }) }
    }
}
