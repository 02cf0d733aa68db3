import Foundation
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import Testing

/// `provhook device show|retry|forget|import`, through the real binary, against a real PostgreSQL, a running
/// `serve` and the stand-in.
@Suite("Operators' device commands")
struct DeviceCareCommandTests {
    static func cli(_ run: EndToEnd) -> CommandLineRunner {
        CommandLineRunner(environment: [
            "PROVHOOK_DATABASE_URL": run.database.urlString, "PROVHOOK_SECRET_KEY_FILE": run.database.secretKeyFile,
            "USER": "alice", "SUDO_USER": "alice",
        ])
    }

    @Test("a conflict is shown with what to do; retry while the other account holds it, then after it lets go")
    func conflictShownAndRetried() async throws {
        try await EndToEnd.run { run in
            let mac = "000413610FF5"
            await run.state.setRegistration(mac, .init(owner: StandInAccounts.otherUser, url: "https://other.example/"))
            #expect(try await run.send(#"{"type":"device.added","mac":"00:04:13:61:0f:f5"}"#).status == 202)
            try await eventually("conflict") { try await run.device(mac)?.status == .conflict }
            let cli = Self.cli(run)

            let shown = try await cli.run(["device", "show", "00-04-13-61-0F-F5"])
            #expect(shown.status == 0, "\(shown.error)")
            #expect(shown.output.contains("conflict since") && shown.output.contains("after 1 try"))
            #expect(shown.output.contains("Another Snom account holds this MAC"))
            #expect(shown.output.contains("provhook device retry \(mac)"))
            #expect(shown.output.contains("Error:owned_by_other_user"))
            #expect(shown.output.contains("nothing yet: no call for this MAC was answered Ok"))

            let json = try await cli.run(["device", "show", mac, "--json", "--limit", "1"])
            let detail = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
            let device = detail?["device"] as? [String: Any]
            let history = detail?["history"] as? [[String: Any]]
            #expect(device?["status"] as? String == "conflict")
            #expect(history?.count == 1 && history?.first?["action"] as? String == "redirect.registerPhone")
            #expect((detail?["history_count"] as? Int ?? 0) >= 2, "the event and the call")
            #expect(detail?["last_applied"] == nil || detail?["last_applied"] is NSNull)

            // Still held by the other account: queued, tried, conflict again.
            let first = try await cli.run(["device", "retry", mac])
            #expect(first.status == 0, "\(first.error)")
            #expect(first.output.contains("1 device(s) queued"))
            try await eventually("tried again") { await run.calls(for: mac).count == 2 }
            try await eventually("conflict again") { try await run.device(mac)?.status == .conflict }

            // The other account lets it go.
            await run.state.setRegistration(mac, nil)
            let second = try await cli.run(["device", "retry", mac])
            #expect(second.status == 0, "\(second.error)")
            try await eventually("registered") {
                await run.state.registration(mac)?.owner == StandInAccounts.user
            }
            try await eventually("status registered") { try await run.device(mac)?.status == .registered }
            let retries = try await run.store.journal(JournalFilter(mac: mac, action: "device.retry"))
            #expect(retries.count == 2 && retries.allSatisfy { $0.actor == "cli:alice" && $0.outcome == "queued" })
            #expect(retries.last?.detail["previous_status"] == .string("conflict"))
            let applied = try await cli.run(["device", "show", mac])
            #expect(applied.output.contains("redirect.registerPhone answered Ok at"))
        }
    }

    @Test("retry by tenant and status, dry run, and refusals: unknown, skipped, bad usage")
    func retrySelectionsAndRefusals() async throws {
        try await EndToEnd.run { run in
            let macs = ["000413000101", "000413000102", "000413000103"]
            for mac in macs.prefix(2) {
                await run.state.setRegistration(mac, .init(owner: StandInAccounts.otherUser, url: "https://o.example/"))
            }
            for mac in macs {
                #expect(try await run.send(#"{"type":"device.added","mac":"\#(mac)"}"#).status == 202)
            }
            try await eventually("two conflicts and one registered") {
                let devices = try await run.store.devices()
                return devices.filter { $0.status == .conflict }.count == 2
                    && devices.filter { $0.status == .registered }.count == 1
            }
            let cli = Self.cli(run)
            let callsBefore = await run.state.calls.count

            let dry = try await cli.run([
                "device", "retry", "--tenant", EndToEnd.tenant, "--status", "conflict", "--dry-run",
            ])
            #expect(dry.status == 0, "\(dry.error)")
            #expect(dry.output.contains(macs[0]) && dry.output.contains(macs[1]) && !dry.output.contains(macs[2]))
            #expect(dry.output.contains("2 device(s) would be queued (dry run)"))
            #expect(try await run.store.journal(JournalFilter(action: "device.retry")).isEmpty)
            #expect(try await run.device(macs[0])?.status == .conflict)

            let unknown = try await cli.run(["device", "retry", "000413FFFFFF", macs[2]])
            #expect(unknown.status == 1)
            #expect(unknown.error.contains("refused 000413FFFFFF: provhook does not know this MAC"))
            #expect(unknown.output.contains("1 device(s) queued"), "the known MAC is queued all the same")

            let usage = try await cli.run(["device", "retry", "--tenant", EndToEnd.tenant])
            #expect(usage.status == 2)
            let badStatus = try await cli.run([
                "device", "retry", "--tenant", EndToEnd.tenant, "--status", "registered",
            ])
            #expect(badStatus.status == 2 && badStatus.error.contains("failed or conflict"))

            let all = try await cli.run([
                "device", "retry", "--tenant", EndToEnd.tenant, "--status", "conflict", "--json",
            ])
            #expect(all.status == 0, "\(all.error)")
            let result = try JSONSerialization.jsonObject(with: Data(all.output.utf8)) as? [String: Any]
            let queued = result?["queued"] as? [[String: Any]] ?? []
            #expect(Set(queued.compactMap { $0["mac"] as? String }) == Set(macs.prefix(2)))
            #expect(queued.allSatisfy { ($0["generation"] as? Int ?? 0) >= 2 })
            try await eventually("both tried again, and the re-registered one") {
                await run.state.calls.count >= callsBefore + 3
            }
        }
    }

    @Test("forget: refused while registered, in flight or unknown; done for a device never applied, journaled")
    func forget() async throws {
        try await EndToEnd.run { run in
            let (registered, conflicted) = ("000413000201", "000413000202")
            await run.state.setRegistration(
                conflicted, .init(owner: StandInAccounts.otherUser, url: "https://o.example/"))
            for mac in [registered, conflicted] {
                #expect(try await run.send(#"{"type":"device.added","mac":"\#(mac)"}"#).status == 202)
            }
            try await eventually("settled") {
                let (one, two) = (try await run.device(registered), try await run.device(conflicted))
                return one?.status == .registered && two?.status == .conflict
            }
            let cli = Self.cli(run)

            let refused = try await cli.run(["device", "forget", registered])
            #expect(refused.status == 1)
            #expect(refused.error.contains("may be registered at the service"))
            #expect(try await run.device(registered) != nil)

            let unknown = try await cli.run(["device", "forget", "000413FFFFFF"])
            #expect(unknown.status == 1 && unknown.error.contains("does not know"))

            let malformed = try await cli.run(["device", "forget", "00:04:13"])
            #expect(malformed.status == 2)

            let forgotten = try await cli.run(["device", "forget", conflicted])
            #expect(forgotten.status == 0, "\(forgotten.error)")
            #expect(forgotten.output.contains("forgot \(conflicted) (conflict"))
            #expect(try await run.device(conflicted) == nil)
            let rows = try await run.store.journal(JournalFilter(mac: conflicted, limit: 100))
            #expect(rows.last?.action == "device.forget" && rows.last?.actor == "cli:alice")
            #expect(rows.count >= 3, "the history stays: event, call, forget")

            // Once the PBX removes the registered one and it is deregistered, it can be forgotten.
            #expect(try await run.send(#"{"type":"device.removed","mac":"\#(registered)"}"#).status == 202)
            try await eventually("deregistered") { try await run.device(registered)?.status == .deregistered }
            let later = try await cli.run(["device", "forget", registered])
            #expect(later.status == 0, "\(later.error)")
        }
    }

    @Test("import: a malformed row stops the file unless --partial; rows registered; a re-run changes nothing")
    func importCSV() async throws {
        try await EndToEnd.run { run in
            let csv = """
                model,mac,device_id,extension
                snomD785,00:04:13:00:03:01,desk-1,101
                "snomD735",00-04-13-00-03-02,"desk, two",102
                snomD785,not-a-mac,desk-3,103

                snomD785,000413000301,desk-4,104
                snomD785,000413000304,,
                """
            let file = try TemporaryFile.write(csv, suffix: ".csv")
            defer { try? FileManager.default.removeItem(atPath: file) }
            let cli = Self.cli(run)

            let stopped = try await cli.run(["device", "import", file, "--tenant", EndToEnd.tenant])
            #expect(stopped.status == 1)
            #expect(stopped.output.contains("line 4: not-a-mac: malformed MAC"))
            #expect(stopped.output.contains("line 6: 000413000301: the MAC is on line 2 already"))
            #expect(stopped.output.contains("nothing imported: 2 of 5 row(s) refused"))
            #expect(try await run.store.devices().isEmpty)

            let dry = try await cli.run(["device", "import", file, "--tenant", EndToEnd.tenant, "--dry-run"])
            #expect(dry.status == 1 && dry.output.contains("dry run: 3 of 5 row(s) would be imported"))
            #expect(try await run.store.devices().isEmpty)

            let partial = try await cli.run(["device", "import", file, "--tenant", EndToEnd.tenant, "--partial"])
            #expect(partial.status == 1, "refused rows are still reported")
            #expect(partial.output.contains("3 row(s) imported, 0 unchanged since an earlier import, 2 refused, of 5"))
            #expect(partial.error.contains("imported 3 of 3 rows"))
            let two = try await run.device("000413000302")
            #expect(two?.deviceID == "desk, two" && two?.model == "snomD735" && two?.extensionNumber == "102")
            #expect(try await run.device("000413000304")?.deviceID == nil)
            try await eventually("registered at the service") {
                for mac in ["000413000301", "000413000302", "000413000304"] {
                    guard await run.state.registration(mac)?.owner == StandInAccounts.user else { return false }
                }
                return true
            }
            let rows = try await run.store.journal(JournalFilter(action: "event.device.added"))
            #expect(rows.count == 3 && rows.allSatisfy { $0.actor == "import:alice" })

            let again = try await cli.run([
                "device", "import", file, "--tenant", EndToEnd.tenant, "--partial", "--json",
            ])
            let result = try JSONSerialization.jsonObject(with: Data(again.output.utf8)) as? [String: Any]
            #expect(result?["accepted"] as? Int == 0 && result?["duplicates"] as? Int == 3)

            // Tenants by column: an unknown one, and one that --tenant excludes.
            let byColumn = try TemporaryFile.write(
                "mac,device_id,extension,model,tenant\n000413000401,,,,\(EndToEnd.tenant)\n000413000402,,,,nobody\n")
            defer { try? FileManager.default.removeItem(atPath: byColumn) }
            let mixed = try await cli.run(["device", "import", byColumn])
            #expect(mixed.status == 1 && mixed.output.contains("line 3: 000413000402: unknown tenant \"nobody\""))
            #expect(try await run.device("000413000401") == nil, "nothing without --partial")
            let other = try await cli.run(["device", "import", byColumn, "--tenant", "nobody"])
            #expect(other.output.contains("line 2: 000413000401: the row is for tenant \"\(EndToEnd.tenant)\""))

            let noHeader = try TemporaryFile.write("000413000501,a,1,snomD785\n")
            defer { try? FileManager.default.removeItem(atPath: noHeader) }
            let unreadable = try await cli.run(["device", "import", noHeader, "--tenant", EndToEnd.tenant])
            #expect(unreadable.status == 2 && unreadable.error.contains("unknown column"))
        }
    }

    @Test("status: database, credentials, devices by status, oldest waiting, the seal; refused credentials exit 1")
    func status() async throws {
        try await EndToEnd.run { run in
            await run.state.setRegistration(
                "000413000601", .init(owner: StandInAccounts.otherUser, url: "https://o.example/"))
            for mac in ["000413000601", "000413000602"] {
                #expect(try await run.send(#"{"type":"device.added","mac":"\#(mac)"}"#).status == 202)
            }
            try await eventually("settled") {
                let devices = try await run.store.devices()
                return Set(devices.map(\.status)) == [.conflict, .registered]
            }
            var environment = [
                "PROVHOOK_DATABASE_URL": run.database.urlString, "PROVHOOK_REDIRECT_URL": run.standIn.endpoint,
                "PROVHOOK_REDIRECT_ALLOW_HTTP": "1", "PROVHOOK_REDIRECT_USER": StandInAccounts.user,
                "PROVHOOK_REDIRECT_PASSWORD": StandInAccounts.password,
            ]
            let ok = try await CommandLineRunner(environment: environment).run(["status"])
            #expect(ok.status == 0, "\(ok.output) \(ok.error)")
            #expect(ok.output.contains("accepts the credentials"))
            #expect(ok.output.contains("registered 1") && ok.output.contains("conflict 1"))
            #expect(ok.output.contains("migration \(Migration.embedded.last?.version ?? 0) of"))
            #expect(ok.output.contains("oldest waiting  none") || ok.output.contains("oldest waiting none"))

            let json = try await CommandLineRunner(environment: environment).run(["status", "--json"])
            let report = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
            let fleet = report?["fleet"] as? [String: Any]
            #expect((fleet?["devices_by_status"] as? [String: Int])?["conflict"] == 1)
            #expect(report?["redirection_ok"] as? Bool == true)

            let metrics = try await run.provhook.get("/metrics").body
            #expect(metrics.contains(#"provhook_devices{status="conflict"} 1"#))
            #expect(metrics.contains("provhook_journal_unsealed_rows"))

            environment["PROVHOOK_REDIRECT_PASSWORD"] = "wrong-password"
            let refused = try await CommandLineRunner(environment: environment).run(["status"])
            #expect(refused.status == 1)
            #expect(refused.output.contains("FAILING") && !refused.output.contains("wrong-password"))
            #expect(!refused.error.contains("wrong-password"))
        }
    }

    @Test("tenant update --wait follows a re-point to its end")
    func repointWait() async throws {
        try await EndToEnd.run { run in
            let macs = (1...5).map { String(format: "0004130007%02X", $0) }
            for mac in macs {
                #expect(try await run.send(#"{"type":"device.added","mac":"\#(mac)"}"#).status == 202)
            }
            try await eventually("registered") {
                try await run.store.devices().filter { $0.status == .registered }.count == macs.count
            }
            let result = try await Self.cli(run).run([
                "tenant", "update", EndToEnd.tenant, "--url-template", "https://new.example.com/<mac>.xml", "--wait",
            ])
            #expect(result.status == 0, "\(result.error)")
            #expect(result.output.contains("re-pointing 5 device(s)"))
            #expect(result.output.contains("5 of 5 done, 0 waiting"))
            for mac in macs {
                #expect(await run.state.registration(mac)?.url == "https://new.example.com/\(mac).xml")
            }
        }
    }
}
