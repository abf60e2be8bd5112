import Foundation
import Hummingbird
import Prometheus
import Telemetry

/// Counts every request in `koers_http_requests_total{route,code}` and turns every error
/// into the API's JSON error body (``APIError``): unknown routes are a JSON 404 too.
struct RequestMetrics<Context: RequestContext>: RouterMiddleware {
    let registry: PrometheusCollectorRegistry

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let e as APIError {
            response = e.response
        } catch let e as HTTPError {
            if e.status == .notFound {
                response = APIError.notFound("no route \(request.method) \(request.uri.path); the API is under /api/v1/ (docs/openapi.yaml)").response
            } else {
                response = APIError(e.status, e.body ?? e.status.reasonPhrase, reason: e.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")).response
            }
        } catch {
            response = APIError(.internalServerError, "internal error: \(error)", code: .internalError).response
        }
        let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
        registry.makeCounter(name: "koers_http_requests_total", labels: [("route", route), ("code", String(response.status.code))],
                             help: MetricCatalog.help("koers_http_requests_total")).increment()
        return response
    }
}
