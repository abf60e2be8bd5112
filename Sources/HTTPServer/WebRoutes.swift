import Foundation
import Hummingbird
import Plan
import Web

/// The web pages' routes: `/` (overview), the stylesheet and the script. Every page
/// takes `?as_of=YYYY-MM-DD`.
struct WebRoutes: Sendable {
    let site: WebSite

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
            return try await page(request) { try await site.alerts(asOf: $0, theme: theme, severity: severity, page: pageNumber) }
        }
        router.get("static/koers.css") { _, _ in asset(WebSite.stylesheet, type: "text/css; charset=utf-8") }
        router.get("static/koers.js") { _, _ in asset(WebSite.script, type: "text/javascript; charset=utf-8") }
    }

    /// Renders a page for `?as_of=`; a malformed date is a 400 page saying what is expected.
    func page(_ request: Request, _ render: (PlanDate?) async throws -> WebSite.Page) async throws -> Response {
        var asOf: PlanDate?
        if let text = request.uri.queryParameters.get("as_of"), !text.isEmpty {
            guard let d = PlanDate(iso: text) else {
                return html(400, "<!DOCTYPE html><html lang=\"nl\"><title>Ongeldige datum</title><p>`as_of=\(escape(text))` is geen datum; schrijf JJJJ-MM-DD, bijvoorbeeld 2024-10-01. <a href=\"/\">Naar het overzicht</a></p></html>")
            }
            asOf = d
        }
        let p = try await render(asOf)
        return html(p.status, p.html)
    }

    func html(_ status: Int, _ text: String) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
