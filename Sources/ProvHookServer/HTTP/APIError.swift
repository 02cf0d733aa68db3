import HTTPTypes
import Hummingbird
import Logging

/// Every error answer of provhook's HTTP routes: the contract's `{"error":{"code":…,"message":…}}` body with its
/// status. Handlers throw it; Hummingbird renders it (`HTTPResponseError`).
public struct APIError: HTTPResponseError, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// A stable code for programs: `invalid_json`, `unknown_tenant`, `bad_signature`, …
    public var code: String
    /// What is wrong, for a person; never a secret.
    public var message: String
    /// Extra headers, such as `WWW-Authenticate` or `Retry-After`.
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public var description: String { "\(self.status.code) \(self.code): \(self.message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try context.responseEncoder.encode(
            Body(error: .init(code: self.code, message: self.message)), from: request, context: context)
        response.status = self.status
        response.headers.append(contentsOf: self.headers)
        return response
    }

    private struct Body: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
        }
        var error: Detail
    }
}

extension APIError {
    /// 400 for a request whose content is refused.
    static func badRequest(_ code: String, _ message: String) -> APIError {
        APIError(.badRequest, code: code, message: message)
    }

    /// 503 while the database cannot be reached: the caller should retry.
    static func unavailable(_ message: String) -> APIError {
        APIError(.serviceUnavailable, code: "unavailable", message: message, headers: [.retryAfter: "5"])
    }
}

/// Renders any error that is not an `HTTPResponseError` as the contract's 500, so that every answer has the same
/// shape and no internal detail leaks; the error itself goes to the log.
struct ErrorBodyMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            throw error
        } catch {
            context.logger.error("unexpected error answering a request", metadata: ["error": "\(error)"])
            throw APIError(.internalServerError, code: "internal", message: "unexpected error")
        }
    }
}
