import FakePBXService
import Foundation
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Testing

/// Lookups shared fairly between sources, collapsed per device, and given up after a bound: with the real binary,
/// Wazo device events (only the device id) and the stand-ins of wazo-auth and wazo-confd.
@Suite("Lookup fairness, collapse and give-up")
struct LookupFairnessTests {
    static let tenantUUID = WazoEndToEndTests.tenantUUID
    static let password = WazoEndToEndTests.password

    /// A Wazo PBX with `devices` (id to MAC) in the tenant, and the user `provhook`.
    static func pbx(_ devices: [String: String]) -> FakePBXState {
        FakePBXState(
            wazoUsers: ["provhook": (Self.password, Self.tenantUUID)],
            wazoDevices: devices.mapValues {
                .init(mac: $0, vendor: "Snom", model: "D785", tenantUUID: Self.tenantUUID)
            })
    }

    /// Adds the Wazo source `name` of tenant acme on `baseURL` with `password`; returns its token.
    static func addWazoSource(
        _ rig: SourceRig, _ name: String, baseURL: String, password: String = Self.password
    ) async throws -> String {
        let passwordFile = try SourceRig.secretFile(password)
        defer { try? FileManager.default.removeItem(atPath: passwordFile) }
        return try await rig.addSource([
            name, "--kind", "wazo", "--tenant", "acme", "--api-url", baseURL, "--api-user", "provhook",
            "--api-password-file", passwordFile,
        ])
    }

    /// Sends a Wazo `device_created` for `deviceID` to source `name`; expects it accepted.
    static func sendCreated(
        _ serve: ServeProcess, source name: String, token: String, deviceID: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let answer = try await SourceRig.send(
            "http://127.0.0.1:\(serve.ports.webhook)/v1/sources/\(name)/events?event=device_created&token=\(token)",
            body: #"{"id": "\#(deviceID)"}"#)
        #expect(
            answer.status == 202 && answer.body.contains("accepted"), "\(answer.body)", sourceLocation: sourceLocation)
    }

    @Test("a slow PBX with a queue of lookups does not hold back another source's lookup")
    func fairBetweenSources() async throws {
        // Source "slow" has five devices on a PBX that answers nothing until the quick source's phone is registered
        // (held, not a fixed latency, which a loaded machine could outlast); source "quick" has one on a PBX that
        // answers at once.
        let slowDevices = (1...5).map { ("slow-device-\($0)", String(format: "00:04:13:61:1f:%02x", $0)) }
        let slowState = Self.pbx(Dictionary(uniqueKeysWithValues: slowDevices))
        await slowState.hold.start()
        try await SourceRig.with(pbx: Self.pbx(["quick-device": "00:04:13:61:2f:01"])) { rig in
            try await RunningFakePBX.with(state: slowState) { slowPBX in
                let slowToken = try await Self.addWazoSource(rig, "wazo-slow", baseURL: slowPBX.baseURL)
                let quickToken = try await Self.addWazoSource(rig, "wazo-quick", baseURL: rig.pbx.baseURL)
                let serve = try await rig.serve()
                defer { serve.stop() }

                // The slow source's five lookups are queued first, then the quick source's one.
                for (id, _) in slowDevices {
                    try await Self.sendCreated(serve, source: "wazo-slow", token: slowToken, deviceID: id)
                }
                try await Self.sendCreated(serve, source: "wazo-quick", token: quickToken, deviceID: "quick-device")

                try await eventually("the quick source's phone registered") {
                    await rig.state.registration("000413612F01") != nil
                }
                // Taken first in, first out and one at a time, the quick lookup would wait for all five slow ones,
                // which cannot end while their PBX holds its answers.
                let slowWaiting = try await rig.database.store.lookupBacklog(source: "wazo-slow").count
                #expect(slowWaiting == 5, "the quick lookup did not wait for the slow source's queue: \(slowWaiting)")
                let slowRegistered = await slowDevices.asyncFilter {
                    await rig.state.registration($0.1.replacingOccurrences(of: ":", with: "")) != nil
                }
                #expect(slowRegistered.isEmpty, "\(slowRegistered)")
                await slowState.hold.release()

                // The slow source's lookups are made one at a time (its share), and all of them in the end.
                try await eventually("every slow lookup made", within: .seconds(90)) {
                    try await rig.database.store.lookupBacklog(source: "wazo-slow").count == 0
                }
                // A resolved lookup queues a registration; the delivery worker makes it a moment later.
                try await eventually("every slow phone registered") {
                    await slowDevices.asyncFilter {
                        await rig.state.registration($0.1.replacingOccurrences(of: ":", with: "")) != nil
                    }.count == slowDevices.count
                }
                let calls = await slowState.requests.filter { $0.path.hasPrefix("/api/confd/1.1/devices/") }
                #expect(calls.count == 5, "one call a device: \(calls)")
            }
        }
    }

    @Test("the same device event sent three times with different event ids makes one call to the PBX")
    func collapsed() async throws {
        let deviceID = "8d1c4fb3b5b74e4a9c3f3c0e7a5b9d21"
        let state = Self.pbx(["busy-device": "00:04:13:61:3f:01", deviceID: "00:04:13:61:3f:02"])
        try await SourceRig.with(pbx: state) { rig in
            let token = try await Self.addWazoSource(rig, "wazo-acme", baseURL: rig.pbx.baseURL)
            let serve = try await rig.serve()
            defer { serve.stop() }
            // The source's one lookup slot is taken by another device's lookup, which the PBX holds unanswered, so
            // that the device's lookup is still waiting when the resends arrive (a lookup already in flight takes no
            // more events).
            await state.hold.start()
            try await Self.sendCreated(serve, source: "wazo-acme", token: token, deviceID: "busy-device")
            try await eventually("the busy device's lookup under way") { await state.hold.received > 0 }
            for _ in 1...3 {
                try await Self.sendCreated(serve, source: "wazo-acme", token: token, deviceID: deviceID)
            }
            await state.hold.release()
            try await eventually("the device registered") { await rig.state.registration("000413613F02") != nil }
            try await eventually("every lookup resolved") {
                try await rig.database.store.lookupBacklog().count == 0
            }

            let calls = await state.requests.filter { $0.path == "/api/confd/1.1/devices/\(deviceID)" }
            #expect(calls.count == 1, "one call to confd for three events: \(calls)")
            #expect(await rig.state.registrationCount() == 2, "the busy device and this one, once each")

            // The journal: the first event pending, the two resends merged into it, the device accepted once under
            // the first event's id.
            let journal = try await rig.database.store.journal(JournalFilter(tenantID: "acme", limit: 1000))
            let pending = journal.filter {
                $0.outcome == "lookup_pending" && $0.detail["device_id"] == .string(deviceID)
            }
            let merged = journal.filter { $0.outcome == "merged" }
            #expect(pending.count == 1 && merged.count == 2, "\(journal)")
            let firstID = try #require(pending.first?.eventID)
            #expect(
                merged.allSatisfy {
                    $0.action == "event.device.added" && $0.detail["merged_into"] == .string(firstID)
                        && $0.detail["device_id"] == .string(deviceID) && $0.eventID != firstID
                })
            let accepted = journal.filter { $0.action == "event.device.added" && $0.mac == "000413613F02" }
            #expect(accepted.count == 1 && accepted.first?.outcome == "accepted" && accepted.first?.eventID == firstID)

            // The merged events' ids were recorded with the lookup: sent again, each is a duplicate.
            for mergedID in merged.compactMap(\.eventID) {
                let again = try await rig.database.store.queueLookup(
                    PendingLookup(
                        source: "wazo-acme", tenantID: "acme", eventID: mergedID, type: .added, deviceID: deviceID,
                        accountID: nil, actor: "cli:test"))
                #expect(again == .duplicate)
            }
        }
    }

    @Test("a lookup whose PBX keeps failing is given up at the bound, journaled gave_up, and not tried again")
    func givenUp() async throws {
        let deviceID = "8d1c4fb3b5b74e4a9c3f3c0e7a5b9d21"
        try await SourceRig.with(pbx: Self.pbx([deviceID: "00:04:13:61:4f:01"])) { rig in
            // wazo-auth refuses this password: a failure that could pass (the password may be fixed), so it is
            // retried, until the lookup is 3 s old.
            let token = try await Self.addWazoSource(
                rig, "wazo-acme", baseURL: rig.pbx.baseURL, password: "not-the-password")
            let serve = try await rig.serve([
                "PROVHOOK_LOOKUP_RETRY_SECONDS": "1", "PROVHOOK_LOOKUP_GIVE_UP_SECONDS": "3",
            ])
            defer { serve.stop() }
            try await Self.sendCreated(serve, source: "wazo-acme", token: token, deviceID: deviceID)

            try await eventually("the lookup given up") {
                try await rig.database.store.journal(JournalFilter(tenantID: "acme", limit: 100)).contains {
                    $0.action == "source.lookup" && $0.outcome == "gave_up"
                }
            }
            let journal = try await rig.database.store.journal(JournalFilter(tenantID: "acme", limit: 100))
            let lookups = journal.filter { $0.action == "source.lookup" }
            #expect(lookups.last?.outcome == "gave_up" && lookups.dropLast().allSatisfy { $0.outcome == "retry" })
            let gaveUp = try #require(lookups.last)
            #expect(gaveUp.detail["code"] == "lookup_unauthorized" && gaveUp.detail["device_id"] == .string(deviceID))
            #expect(gaveUp.eventID == journal.first { $0.outcome == "lookup_pending" }?.eventID)
            #expect(try await rig.database.store.lookupBacklog().count == 0, "dropped")

            // No longer tried: no request reaches the PBX after the give-up, across several retry delays.
            let before = await rig.pbx.state.requests.count
            try await Task.sleep(for: .seconds(4))
            #expect(await rig.pbx.state.requests.count == before)
            #expect(await rig.state.registration("000413614F01") == nil)
            #expect(!serve.log.contains("not-the-password"), "no secret logged")
        }
    }
}

/// The claims themselves, against the database alone.
@Suite("Lookup claims")
struct LookupClaimTests {
    static func lookup(_ source: String, _ device: String, _ event: String) -> PendingLookup {
        PendingLookup(
            source: source, tenantID: "acme", eventID: event, type: .added, deviceID: device, accountID: nil,
            actor: "source:\(source)@127.0.0.1")
    }

    @Test("claims take the oldest lookup of each source in turn, and never more than a source's share in flight")
    func shares() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            try await store.addTenant("acme")
            for name in ["a", "b", "c"] {
                _ = try await store.addSource(name: name, kind: .wazo, tenantID: "acme", actor: "cli:test")
            }
            for index in 1...4 { _ = try await store.queueLookup(Self.lookup("a", "a-\(index)", "a-event-\(index)")) }
            _ = try await store.queueLookup(Self.lookup("b", "b-1", "b-event-1"))
            _ = try await store.queueLookup(Self.lookup("c", "c-1", "c-event-1"))
            _ = try await store.queueLookup(Self.lookup("c", "c-2", "c-event-2"))

            // One of each source, the oldest, though source a queued four first.
            var claimed = try await store.claimLookups(limit: 10, perSource: 1, lease: .seconds(60))
            #expect(Set(claimed.map(\.eventID)) == ["a-event-1", "b-event-1", "c-event-1"])
            // Each source has its share in flight: nothing more, whoever claims (another process included).
            #expect(try await store.claimLookups(limit: 10, perSource: 1, lease: .seconds(60)).isEmpty)
            // A share of two: one more of a and of c; b has nothing left.
            claimed = try await store.claimLookups(limit: 10, perSource: 2, lease: .seconds(60))
            #expect(Set(claimed.map(\.eventID)) == ["a-event-2", "c-event-2"])
            // A share of three: a's next oldest, and only it (a has two in flight).
            claimed = try await store.claimLookups(limit: 10, perSource: 3, lease: .seconds(60))
            #expect(claimed.map(\.eventID) == ["a-event-3"])
        }
    }

    @Test("events for a device with a lookup waiting merge into it; one in flight takes none")
    func merging() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            try await store.addTenant("acme")
            _ = try await store.addSource(name: "w", kind: .wazo, tenantID: "acme", actor: "cli:test")
            #expect(try await store.queueLookup(Self.lookup("w", "d", "e1")) == .accepted(queued: true))
            #expect(try await store.queueLookup(Self.lookup("w", "d", "e2")) == .accepted(queued: false))
            #expect(try await store.queueLookup(Self.lookup("w", "d", "e2")) == .duplicate, "the same id again")
            #expect(try await store.queueLookup(Self.lookup("w", "d", "e1")) == .duplicate)
            var claimed = try await store.claimLookups(limit: 10, perSource: 4, lease: .seconds(60))
            #expect(claimed.map(\.eventID) == ["e1"] && claimed.first?.mergedEventIDs == ["e2"])
            // In flight: the next event queues a lookup of its own, which later ones join, and which waits for the
            // one in flight whatever the source's share.
            #expect(try await store.queueLookup(Self.lookup("w", "d", "e3")) == .accepted(queued: true))
            #expect(try await store.queueLookup(Self.lookup("w", "d", "e4")) == .accepted(queued: false))
            #expect(try await store.claimLookups(limit: 10, perSource: 4, lease: .seconds(60)).isEmpty)
            try await store.completeLookup(try #require(claimed.first))
            #expect(try await store.queueLookup(Self.lookup("w", "d", "e2")) == .duplicate, "recorded as seen")
            claimed = try await store.claimLookups(limit: 10, perSource: 4, lease: .seconds(60))
            #expect(claimed.map(\.eventID) == ["e3"] && claimed.first?.mergedEventIDs == ["e4"])
            let journal = try await store.journal(JournalFilter(tenantID: "acme", limit: 100))
            let merged = journal.filter { $0.outcome == "merged" }
            #expect(merged.map(\.eventID) == ["e2", "e4"])
            #expect(merged.map { $0.detail["merged_into"] } == [.string("e1"), .string("e3")])
        }
    }
}

/// The lookup settings as docs/platforms.md ("Lookups") documents them.
@Suite("Lookup settings")
struct LookupSettingsTests {
    @Test("concurrency, share per source and give-up age: defaults, values, and bounds")
    func settings() throws {
        try ServeSettingsTests.withKeyFile { keyFile in
            let defaults = try ServeSettingsTests.environment([:], keyFile: keyFile).serveConfiguration(ServeFlags())
                .lookups
            #expect(defaults.concurrency == 4 && defaults.perSource == 1 && defaults.giveUpAfter == .seconds(3600))
            #expect(defaults.attemptLimit == .seconds(60), "a login, the call, a login again and the call again")
            let set = try ServeSettingsTests.environment(
                [
                    "PROVHOOK_LOOKUP_CONCURRENCY": "16", "PROVHOOK_LOOKUP_PER_SOURCE": "2",
                    "PROVHOOK_LOOKUP_GIVE_UP_SECONDS": "600", "PROVHOOK_LOOKUP_TIMEOUT_SECONDS": "2",
                ], keyFile: keyFile
            ).serveConfiguration(ServeFlags()).lookups
            #expect(set.concurrency == 16 && set.perSource == 2 && set.giveUpAfter == .seconds(600))
            #expect(set.attemptLimit == .seconds(28))
            for (variable, value) in [
                ("PROVHOOK_LOOKUP_CONCURRENCY", "0"), ("PROVHOOK_LOOKUP_PER_SOURCE", "17"),
                ("PROVHOOK_LOOKUP_GIVE_UP_SECONDS", "0"),
            ] {
                #expect {
                    try ServeSettingsTests.environment([variable: value], keyFile: keyFile)
                        .serveConfiguration(ServeFlags())
                } throws: { error in
                    String(describing: error).contains(variable)
                }
            }
        }
    }
}

extension Sequence {
    /// The elements for which `predicate` holds, asked one after the other.
    fileprivate func asyncFilter(_ predicate: (Element) async throws -> Bool) async rethrows -> [Element] {
        var kept: [Element] = []
        for element in self where try await predicate(element) { kept.append(element) }
        return kept
    }
}
