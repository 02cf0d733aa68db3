import NIOHTTP1
import Testing

extension BasicAuthStandInFixture {
    /// Checks the front door of a basic-auth XML-RPC stand-in, kept as its service keeps it: `body` with our login at
    /// the service's address is taken (200); each path of `elsewhere` is 404; a GET is 405; another content type
    /// (`otherType`) or none is 415; a wrong password and a bearer token are 401 with `Basic realm="<realm>"`.
    public func expectFrontDoor(
        _ body: String, elsewhere: [String], realm: String, otherType: String = "application/xml",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        #expect(try await self.post(body).status == 200, sourceLocation: sourceLocation)
        for path in elsewhere {
            #expect(try await self.post(body, path: path).status == 404, "\(path)", sourceLocation: sourceLocation)
        }
        #expect(try await self.post(body, method: .GET).status == 405, sourceLocation: sourceLocation)
        for type in [otherType, nil] {
            let status = try await self.post(body, contentType: type).status
            #expect(status == 415, "\(type ?? "no content type")", sourceLocation: sourceLocation)
        }
        for authorization in [VendorTestHarness.basic(Self.user, "wrong"), "Bearer x"] {
            let refused = try await self.post(body, authorization: authorization)
            #expect(
                refused.status == 401 && refused.challenge == "Basic realm=\"\(realm)\"", "\(authorization)",
                sourceLocation: sourceLocation)
        }
    }
}
