import Hummingbird
import WebhookSignature

/// Lets a request through only with `Authorization: Bearer <token>`, compared in constant time; on the admin route
/// group, so that no admin handler checks the token itself.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        guard let header = request.headers[.authorization], header.utf8.count > 7,
            header.prefix(7).lowercased() == "bearer "
        else {
            throw Self.unauthorized("missing_token", "Authorization: Bearer <PROVHOOK_ADMIN_TOKEN> is required")
        }
        guard constantTimeEquals(Array(header.utf8.dropFirst(7)), Array(self.token.utf8)) else {
            throw Self.unauthorized("bad_token", "the bearer token is wrong")
        }
        return try await next(request, context)
    }

    private static func unauthorized(_ code: String, _ message: String) -> APIError {
        APIError(.unauthorized, code: code, message: message, headers: [.wwwAuthenticate: "Bearer"])
    }
}
