import HTTPTypes
import Hummingbird

/// Answers 405 with `Allow` for a path that a listener serves with other methods (TRACE on `/healthz`, say), instead
/// of the router's 404: the path exists, the method does not.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The methods of each path the listener serves; `{name}` matches one segment.
    let routes: [String: [HTTPRequest.Method]]

    /// The table of the routes a router has registered, so that it cannot differ from what the router serves.
    init(routes: [Router<Context>.RouteDescription]) {
        self.routes = Dictionary(grouping: routes) { $0.path.description }.mapValues { $0.map(\.method) }
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        let segments = request.uri.path.split(separator: "/", omittingEmptySubsequences: false)
        for (pattern, methods) in self.routes where Self.matches(pattern, segments) {
            guard methods.contains(request.method) else {
                throw APIError(
                    .methodNotAllowed, code: "method_not_allowed",
                    message: "\(request.method.rawValue) is not allowed here; use \(Self.allow(methods))",
                    headers: [.allow: Self.allow(methods)])
            }
            break
        }
        return try await next(request, context)
    }

    private static func allow(_ methods: [HTTPRequest.Method]) -> String {
        methods.map(\.rawValue).joined(separator: ", ")
    }

    private static func matches(_ pattern: String, _ segments: [Substring]) -> Bool {
        let parts = pattern.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == segments.count else { return false }
        return zip(parts, segments).allSatisfy { part, segment in
            part.hasPrefix("{") ? !segment.isEmpty : part == segment
        }
    }
}

extension Router {
    /// Adds the 405 answer for the routes registered so far. Added after them, it wraps only the router's not-found
    /// answer, which is where a request whose path exists with other methods ends up.
    func addMethodNotAllowed() {
        self.add(middleware: MethodNotAllowedMiddleware(routes: self.routes))
    }
}
