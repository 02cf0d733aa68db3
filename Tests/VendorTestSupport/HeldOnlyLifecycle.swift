import ProvisioningModel
import Testing

/// The life of one MAC at a service that says who holds a MAC but not where it points (Panasonic, Gigaset, Yealink's
/// RPS and its copies), checked through a client and against the stand-in's own record of the MAC.
public struct HeldOnlyLifecycle<Client: ProvisioningService>: Sendable {
    /// The client under test.
    public let client: Client
    public let mac: MACAddress
    /// The account the stand-in must name as the holder.
    public let owner: String
    /// The stand-in's record of the MAC: who holds it and its URL, or nil.
    public let held: @Sendable () async -> (owner: String, url: String)?

    public init(
        client: Client, mac: MACAddress, owner: String,
        held: @escaping @Sendable () async -> (owner: String, url: String)?
    ) {
        (self.client, self.mac, self.owner, self.held) = (client, mac, owner, held)
    }

    /// Never seen, so the service does not know it; registered at `url`; held and said to be ours (the service does
    /// not say where it points); registered again at `other`, which re-points it; deregistered; deregistered again,
    /// which is answered `removalOfNothing`; unknown again. `register` makes a registration (by default
    /// `register(_:at:)`).
    public func run(
        url: String, other: String, removalOfNothing: RedirectOutcome,
        register: (@Sendable (Client, MACAddress, String) async throws -> RedirectOutcome)? = nil
    ) async throws {
        let register = register ?? { client, mac, url in try await client.register(mac, at: url) }
        #expect(try await self.client.ownership(of: self.mac) == .error(.noSuchMAC), "never seen: unknown")
        #expect(try await register(self.client, self.mac, url) == .ok)
        #expect(await self.held().map { [$0.owner, $0.url] } == [self.owner, url])
        #expect(try await self.client.ownership(of: self.mac) == .ok)
        #expect(try await self.client.redirection(of: self.mac) == .held, "the service does not say where it points")
        #expect(try await register(self.client, self.mac, other) == .ok, "our own MAC is pointed elsewhere")
        #expect(await self.held().map { [$0.owner, $0.url] } == [self.owner, other])
        #expect(try await self.client.deregister(self.mac) == .ok)
        #expect(await self.held() == nil)
        #expect(try await self.client.deregister(self.mac) == removalOfNothing, "a removal of nothing is done")
        #expect(try await self.client.ownership(of: self.mac) == .error(.noSuchMAC), "released: unknown again")
    }

    /// The MAC registered at `other` by another account, through `theirs`: our registration, check and removal are
    /// each refused as held by another user, and the other account's registration is left as it was.
    public func heldElsewhere(
        by theirs: Client, as otherOwner: String, url: String, other: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        #expect(try await theirs.register(self.mac, at: other) == .ok, sourceLocation: sourceLocation)
        for (what, outcome) in [
            ("register", try await self.client.register(self.mac, at: url)),
            ("check", try await self.client.ownership(of: self.mac)),
            ("deregister", try await self.client.deregister(self.mac)),
        ] {
            #expect(outcome == .error(.ownedByOtherUser), "\(what)", sourceLocation: sourceLocation)
        }
        #expect(
            await self.held().map { [$0.owner, $0.url] } == [otherOwner, other], "left as it was",
            sourceLocation: sourceLocation)
    }
}
