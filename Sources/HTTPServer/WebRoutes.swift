import Foundation
import Hummingbird
import History
import Plan
import Report
import StreamProtocol
import Web

/// The web pages' routes: `/` (overview), the stylesheet and the script. Every page
/// takes `?as_of=YYYY-MM-DD`.
struct WebRoutes: Sendable {
    let site: WebSite
    /// The API's credentials: the same tokens, the same rule (reads beyond loopback need one).
    let api: API

    func add(to router: Router<BasicRequestContext>) {
        router.get("/") { request, _ -> Response in
            try await page(request) { try await site.overview(asOf: $0) }
        }
        router.get("wijken") { request, _ -> Response in
            try await page(request) { try await site.areas(asOf: $0) }
        }
        router.get("wijken/:area") { request, context -> Response in
            let area = context.parameters.get("area") ?? ""
            return try await page(request) { try await site.area(area, asOf: $0) }
        }
        router.get("items/:id") { request, context -> Response in
            let id = context.parameters.get("id") ?? ""
            return try await page(request) { try await site.item(id, asOf: $0) }
        }
        router.get("alerts") { request, _ -> Response in
            let q = request.uri.queryParameters
            let theme = q.get("theme").flatMap { $0.isEmpty ? nil : $0 }, severity = q.get("severity").flatMap { $0.isEmpty ? nil : $0 }
            let pageNumber = q.get("page").flatMap(Int.init) ?? 1
            let message = q.get("acknowledged").map { "Melding \($0) is in behandeling genomen; de stroom meldt het iedereen." }
            return try await page(request) { try await site.alerts(asOf: $0, theme: theme, severity: severity, page: pageNumber, message: message) }
        }
        // The council report (voortgangsbrief) as a page: docs/council-report.md. The same
        // bytes as `koers council-report --format html` for the same store and dates.
        router.get("rapport") { request, _ -> Response in
            try await page(request) { asOf in
                let sinceText = request.uri.queryParameters.get("since").flatMap { $0.isEmpty ? nil : String($0) }
                let since = sinceText.flatMap(PlanDate.init(iso:))
                if let sinceText, since == nil {
                    return WebSite.Page(status: 400, html: Self.problem("Ongeldige datum", "`since=\(WebSite.escape(sinceText))` is geen datum; schrijf JJJJ-MM-DD, bijvoorbeeld 2024-07-01."))
                }
                let date: PlanDate
                if let asOf { date = asOf } else { date = await site.feed.snapshot(theme: nil).date }
                if let since, since > date {
                    return WebSite.Page(status: 400, html: Self.problem("Ongeldige periode", "`since` ligt na de stand per \(date.iso); kies een datum op of voor die dag."))
                }
                // The whole store is read: on a dispatch thread, not on the cooperative pool.
                let (plan, store) = (site.feed.plan, site.feed.storePath)
                let html = try await blocking { try CouncilReport.make(plan: plan, history: try StoreHistory(path: store), asOf: date, since: since).html() }
                return WebSite.Page(status: 200, html: html)
            }
        }
        router.post("alerts/:key/ack") { request, context -> Response in
            try await acknowledge(request, key: context.parameters.get("key")?.removingPercentEncoding ?? "")
        }
        router.get("login") { request, _ -> Response in
            html(200, loginPage(next: request.uri.queryParameters.get("next") ?? "/", message: nil))
        }
        router.post("login") { request, _ -> Response in try await login(request) }
        router.get("static/koers.css") { _, _ in asset(WebSite.stylesheet, type: "text/css; charset=utf-8") }
        router.get("static/koers.js") { _, _ in asset(WebSite.script, type: "text/javascript; charset=utf-8") }
    }

    /// Renders a page for `?as_of=`; a malformed date is a 400 page saying what is expected.
    func page(_ request: Request, _ render: (PlanDate?) async throws -> WebSite.Page) async throws -> Response {
        do { _ = try api.authorize(request, write: false) } catch {
            // Beyond loopback a page needs a login (the token as a cookie).
            let next = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            return Response(status: .seeOther, headers: [.location: "/login?next=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/")])
        }
        var asOf: PlanDate?
        if let text = request.uri.queryParameters.get("as_of"), !text.isEmpty {
            guard let d = PlanDate(iso: text) else {
                return html(400, "<!DOCTYPE html><html lang=\"nl\"><title>Ongeldige datum</title><p>`as_of=\(WebSite.escape(text))` is geen datum; schrijf JJJJ-MM-DD, bijvoorbeeld 2024-10-01. <a href=\"/\">Naar het overzicht</a></p></html>")
            }
            asOf = d
        }
        let p = try await render(asOf)
        return html(p.status, p.html)
    }

    /// A short Dutch page for a request that cannot be answered as asked.
    static func problem(_ title: String, _ message: String) -> String {
        "<!DOCTYPE html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>\(title)</title></head><body><p>\(message) <a href=\"/\">Naar het overzicht</a></p></body></html>"
    }

    /// The alert form's acknowledgement: the operator's token is a field of the form
    /// (never the cookie alone), then the same acknowledgement as the API's.
    func acknowledge(_ request: Request, key: String) async throws -> Response {
        let form = try await Self.form(request)
        func back(_ status: Int, _ message: String) async throws -> Response {
            let p = try await site.alerts(asOf: nil, theme: nil, severity: nil, message: message)
            return html(status, p.html)
        }
        guard let token = form["token"], !token.isEmpty, let who = api.tokens.holder(of: token) else {
            return try await back(401, "Niet bevestigd: de sleutel (operator-token) ontbreekt of is onbekend. Maak er een met `koers keys token operator:NAAM`.")
        }
        let until = form["until"].flatMap { $0.isEmpty ? nil : $0 }, by = form["by"].flatMap { $0.isEmpty ? nil : $0 }
        let request = StreamDocuments.AckRequest(key: key, by: by, reason: form["reason"] ?? "", until: until)
        switch await site.feed.acknowledge(request, identity: who.identity, scope: who.scope) {
        case .success:
            return Response(status: .seeOther, headers: [.location: "/alerts?acknowledged=" + (key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")])
        case .failure(let refusal):
            return try await back(refusal.code == .notPermitted ? 403 : 400, "Niet bevestigd (\(refusal.code.rawValue) \(refusal.code.name)): \(refusal.message)")
        }
    }

    /// The login page: a token, kept as a cookie for reading the pages and the stream.
    func login(_ request: Request) async throws -> Response {
        let form = try await Self.form(request)
        let next = form["next"].flatMap { $0.hasPrefix("/") && !$0.hasPrefix("//") ? $0 : nil } ?? "/"
        guard let token = form["token"], api.tokens.holder(of: token) != nil else {
            return html(401, loginPage(next: next, message: "Onbekende sleutel. Maak er een met `koers keys token operator:NAAM` en herlaad de aggregator (SIGHUP)."))
        }
        return Response(status: .seeOther, headers: [.location: next,
                                                     .setCookie: "koers_token=\(token); Path=/; HttpOnly; SameSite=Strict"])
    }

    func loginPage(next: String, message: String?) -> String {
        """
        <!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Inloggen — Koers</title><link rel="stylesheet" href="/static/koers.css"></head><body><main id="inhoud">
        <h1>Inloggen bij Koers</h1>
        \(message.map { "<p class=\"message\" role=\"alert\">\(WebSite.escape($0))</p>" } ?? "")
        <p>Deze server is bereikbaar buiten deze machine; lezen vraagt een operator-sleutel.</p>
        <form method="post" action="/login"><input type="hidden" name="next" value="\(WebSite.escape(next))">
        <label for="token">Sleutel (operator-token)</label> <input type="password" id="token" name="token" required autocomplete="current-password">
        <button type="submit">Inloggen</button></form></main></body></html>
        """
    }

    /// An `application/x-www-form-urlencoded` body (at most 16 KiB).
    static func form(_ request: Request) async throws -> [String: String] {
        var buffer = try await request.body.collect(upTo: 16_384)
        let text = buffer.readString(length: buffer.readableBytes) ?? ""
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0) }
            if let k = kv.first { out[k] = kv.count > 1 ? kv[1] : "" }
        }
        return out
    }

    func html(_ status: Int, _ text: String) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
