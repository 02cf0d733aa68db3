import Foundation

/// How strict a Hawk server is.
public struct HawkServerOptions: Sendable, Hashable {
    /// Seconds a request's timestamp may differ from the server's clock, either way (the reference's 60).
    public var timestampSkew: Int64
    /// Whether a request without `hash` is refused; SRAPS does not require one, so the default is `false`.
    public var requiresPayloadHash: Bool

    /// Options with the reference's defaults.
    public init(timestampSkew: Int64 = 60, requiresPayloadHash: Bool = false) {
        self.timestampSkew = timestampSkew
        self.requiresPayloadHash = requiresPayloadHash
    }
}

/// A request as a Hawk server sees it.
public struct HawkIncomingRequest: Sendable, Hashable {
    /// Method, host and port the request reached, and its path-and-query as in the request line.
    public var target: HawkRequestTarget
    /// The `Authorization` header, when there is one.
    public var authorization: String?
    /// The `Content-Type` header and the body as received (empty for a GET).
    public var payload: HawkPayload

    /// A request from its parts.
    public init(target: HawkRequestTarget, authorization: String?, payload: HawkPayload) {
        self.target = target
        self.authorization = authorization
        self.payload = payload
    }
}

/// A request that passed: who signed it and what its MAC covered.
public struct HawkAuthenticated: Sendable {
    /// The credentials whose key verified the MAC.
    public let credentials: HawkCredentials
    /// What the MAC covered, including `ext`, `app` and `dlg`.
    public let artifacts: HawkArtifacts
}

/// Verifies Hawk requests in mozilla/hawk `server.authenticate`'s order: header, credentials, MAC, payload hash,
/// nonce, and the timestamp last, so that only a client holding the key learns the server's time.
public struct HawkServer: Sendable {
    /// Finds the credentials of a key id; `nil` when there are none.
    public typealias CredentialsLookup = @Sendable (String) async throws -> HawkCredentials?

    /// The server's strictness.
    public let options: HawkServerOptions
    private let replayCache: HawkReplayCache?
    private let lookup: CredentialsLookup

    /// A server that finds credentials with `credentials` and refuses replays with `replayCache` when given.
    public init(
        options: HawkServerOptions = HawkServerOptions(), replayCache: HawkReplayCache?,
        credentials: @escaping CredentialsLookup
    ) {
        self.options = options
        self.replayCache = replayCache
        self.lookup = credentials
    }

    /// A server with a fixed set of credentials, by id.
    public init(
        options: HawkServerOptions = HawkServerOptions(), replayCache: HawkReplayCache?,
        credentials: [String: HawkCredentials]
    ) {
        self.init(options: options, replayCache: replayCache) { id in credentials[id] }
    }

    /// Authenticates a request at the time `now`; throws the refusal a server maps to its HTTP answer.
    public func authenticate(
        _ request: HawkIncomingRequest, now: Date = Date()
    ) async throws(HawkAuthenticationError) -> HawkAuthenticated {
        let nowMilliseconds = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
        let attributes: [String: String]
        do {
            attributes = try HawkHeaderParser.parse(request.authorization)
        } catch .missing, .otherScheme {
            throw .missingAuthentication
        } catch {
            throw .invalidHeader(error)
        }
        guard let id = attributes["id"], let timestamp = attributes["ts"], let nonce = attributes["nonce"],
            let mac = attributes["mac"]
        else { throw .missingAttributes }

        let found: HawkCredentials?
        do {
            found = try await self.lookup(id)
        } catch {
            throw .credentialsLookupFailed(String(describing: error))
        }
        guard let credentials = found else { throw .unknownCredentials }

        let artifacts = HawkArtifacts(
            method: request.target.method, resource: request.target.resource, host: request.target.host,
            port: request.target.port, timestamp: timestamp, nonce: nonce, hash: attributes["hash"],
            ext: attributes["ext"], app: attributes["app"], dlg: attributes["dlg"])
        guard HawkCrypto.constantTimeEquals(artifacts.mac(using: credentials), mac) else { throw .badMAC }

        // The MAC covers `hash`, so a sent hash must match the body; the reference checks it only when given the
        // payload, and a stand-in always has it.
        if let hash = attributes["hash"] {
            guard HawkCrypto.constantTimeEquals(request.payload.hash, hash) else { throw .badPayloadHash }
        } else if self.options.requiresPayloadHash {
            throw .missingPayloadHash
        }

        if let replayCache = self.replayCache {
            let isFirstUse = await replayCache.register(
                id: id, nonce: nonce, timestamp: timestamp, now: nowMilliseconds / 1000)
            guard isFirstUse else { throw .invalidNonce }
        }

        // A ts that is not plain seconds counts as stale (the reference's NaN would slip through its comparison).
        let skewMilliseconds = self.options.timestampSkew * 1000
        guard let seconds = parseSeconds(timestamp), abs(seconds * 1000 - nowMilliseconds) <= skewMilliseconds else {
            let serverTimestamp = nowMilliseconds / 1000
            throw .staleTimestamp(
                serverTimestamp: serverTimestamp,
                tsm: HawkCrypto.timestampMAC(String(serverTimestamp), credentials: credentials))
        }
        return HawkAuthenticated(credentials: credentials, artifacts: artifacts)
    }
}

extension HawkRequestTarget {
    /// A server's view of a target, from the request's `Host` header (mozilla/hawk `parseHost`): the host name
    /// lowercased, and the port from the header or else 443 with TLS and 80 without.
    public init(
        method: String, hostHeader: String?, isTLS: Bool, resource: String
    ) throws(HawkAuthenticationError) {
        guard let hostHeader, !hostHeader.isEmpty, hostHeader.utf8.count <= HawkHeaderParser.maximumLength,
            !hostHeader.unicodeScalars.contains(where: { isWhitespace($0) || "/\\?#@".unicodeScalars.contains($0) })
        else { throw .invalidHostHeader }
        var host = Substring(hostHeader)
        var portText: Substring?
        if host.hasPrefix("[") {
            // An IPv6 literal keeps its brackets, as the URL parser's `hostname` does.
            guard let close = host.firstIndex(of: "]") else { throw .invalidHostHeader }
            let rest = host[host.index(after: close)...]
            host = host[...close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw .invalidHostHeader }
                portText = rest.dropFirst()
            }
        } else if let colon = host.firstIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard !host.isEmpty, !host.contains(":") || host.hasPrefix("[") else { throw .invalidHostHeader }
        var port = isTLS ? 443 : 80
        if let portText, !portText.isEmpty {
            guard portText.utf8.count <= 5, portText.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                let value = Int(portText), (0...65535).contains(value)
            else { throw .invalidHostHeader }
            port = value
        }
        self.init(method: method, host: host.lowercased(), port: port, resource: resource)
    }
}
