import Foundation
import NIOHTTP1
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import Testing

@testable import ProvHookServer

/// The admin journal route's paging and filters, a secret rotated through the route, and the CSV export's inert
/// cells: each checked over HTTP against the running admin listener, as docs/operating.md ("Admin API") promises them.
@Suite("Admin API: journal paging and filters, secret rotation, CSV cells")
struct AdminAPIFilterTests {
    static let token = AdminAPITests.token

    @Test("GET /v1/journal pages forward by next_after_id: every row once, in id order, as one big page has them")
    func journalPaging() async throws {
        try await EndToEnd.run(adminToken: Self.token) { run in
            let provhook = run.provhook
            for index in 1...7 {
                let mac = String(format: "0004130002%02X", index)
                #expect(try await run.send(#"{"type":"device.added","mac":"\#(mac)"}"#).status == 202)
            }
            try await eventually("registered: the journal stops growing") {
                try await run.store.devices(DeviceFilter(status: .registered)).count == 7
            }
            // Every row, oldest first, in one page: a tenant.add, 7 events, 7 calls at least.
            let all = try await Self.entries(provhook, "/v1/journal?after_id=0&limit=10000")
            let allIDs = Self.ids(all)
            #expect(allIDs.count >= 15 && allIDs == allIDs.sorted() && Set(allIDs).count == allIDs.count)

            // Pages of 4 from the beginning, each following the previous page's next_after_id.
            let (paged, pages) = try await Self.follow(provhook, "/v1/journal?limit=4")
            #expect(paged == allIDs, "no row missed, repeated or out of order")
            // A full page always names the next one, so a total that is a multiple of 4 ends with an empty page.
            #expect(pages == allIDs.count / 4 + 1)

            // Paging composes with a filter: the calls only, two at a time.
            let calls = Self.ids(all.filter { $0["action"] as? String == "redirect.registerPhone" })
            let (pagedCalls, _) = try await Self.follow(provhook, "/v1/journal?action=redirect.registerPhone&limit=2")
            #expect(calls.count >= 7 && pagedCalls == calls)

            // Without after_id: the newest page, oldest first.
            let newest = try await Self.entries(provhook, "/v1/journal?limit=4")
            #expect(Self.ids(newest) == Array(allIDs.suffix(4)))
            // Nothing was added meanwhile, or the comparisons above compared different journals.
            #expect(Self.ids(try await Self.entries(provhook, "/v1/journal?after_id=0&limit=10000")) == allIDs)
        }
    }

    @Test("GET /v1/journal filters by tenant, mac, action, since and until; a malformed value is a 400")
    func journalFilters() async throws {
        try await EndToEnd.run(adminToken: Self.token) { run in
            let provhook = run.provhook
            let created = try await provhook.call(
                .POST, "/v1/tenants", token: Self.token,
                json: #"{"id":"beta","url_template":"https://b.example/<mac>"}"#)
            #expect(created.status == 201)
            // Never through #require, which would print the secret it was given.
            guard let betaSecret = created.json["webhook_secret"] as? String else {
                Issue.record("no webhook_secret in the answer")
                return
            }
            for body in [
                #"{"type":"device.added","mac":"000413000301"}"#, #"{"type":"device.added","mac":"000413000302"}"#,
            ] {
                #expect(try await run.send(body).status == 202)
            }
            // Registered before it is removed, so that the journal holds both calls whatever the worker's timing.
            try await eventually("000413000302 registered") {
                try await run.store.devices().contains { $0.mac == "000413000302" && $0.status == .registered }
            }
            #expect(try await run.send(#"{"type":"device.removed","mac":"000413000302"}"#).status == 202)
            let betaSent = try await provhook.send(
                tenant: "beta", body: #"{"type":"device.added","mac":"000413000311"}"#, secret: betaSecret)
            #expect(betaSent.status == 202)
            try await eventually("applied: the journal stops growing") {
                let devices = try await run.store.devices()
                return devices.count == 3 && devices.allSatisfy { $0.status != .pending }
            }
            let all = try await Self.entries(provhook, "/v1/journal?after_id=0&limit=10000")
            #expect(all.count >= 10)

            // Each filter answers exactly the rows of the whole journal that match it, in id order.
            let cases: [(query: String, matches: ([String: Any]) -> Bool)] = [
                ("tenant=beta", { $0["tenant_id"] as? String == "beta" }),
                ("mac=00-04-13-00-03-02", { $0["mac"] as? String == "000413000302" }),
                ("mac=000413000311", { $0["mac"] as? String == "000413000311" }),
                ("action=event.device.removed", { $0["action"] as? String == "event.device.removed" }),
                ("action=redirect.registerPhone", { $0["action"] as? String == "redirect.registerPhone" }),
                (
                    "tenant=acme&action=redirect.registerPhone",
                    { $0["tenant_id"] as? String == "acme" && $0["action"] as? String == "redirect.registerPhone" }
                ),
            ]
            for (query, matches) in cases {
                let expected = Self.ids(all.filter(matches))
                let answer = try await Self.entries(provhook, "/v1/journal?\(query)&after_id=0&limit=10000")
                #expect(!expected.isEmpty && expected.count < all.count, "\(query) splits nothing")
                #expect(Self.ids(answer) == expected, "\(query)")
            }
            // The newest page with a filter, as well: every row matches.
            let newest = try await Self.entries(provhook, "/v1/journal?mac=000413000302&limit=10000")
            #expect(Self.ids(newest) == Self.ids(all.filter { $0["mac"] as? String == "000413000302" }))

            // since and until, at times between rows. The route's `at` has whole seconds; the database's has
            // microseconds, read here to know on which side of each boundary every row is.
            let precise = try await run.store.journal(JournalFilter(afterID: 0, limit: 10_000))
            #expect(precise.compactMap(\.id).map(Int.init) == Self.ids(all))
            let times = precise.compactMap { entry in entry.id.flatMap { id in entry.at.map { (Int(id), $0) } } }
            let boundaries = Self.boundaries(between: times.map(\.1))
            try #require(boundaries.count >= 2, "no two boundaries with rows on either side")
            let (early, late) = (boundaries[boundaries.count / 3], boundaries[boundaries.count * 2 / 3])
            try #require(early.date < late.date)
            func expected(_ keep: (Date) -> Bool) -> [Int] { times.filter { keep($0.1) }.map(\.0).sorted() }
            let windows: [(query: String, ids: [Int])] = [
                ("since=\(early.text)", expected { $0 >= early.date }),
                ("until=\(late.text)", expected { $0 < late.date }),
                ("since=\(early.text)&until=\(late.text)", expected { $0 >= early.date && $0 < late.date }),
                // RFC 3339 in lowercase, and with an offset ('+' escaped in a query).
                ("until=\(early.text.lowercased())", expected { $0 < early.date }),
                ("since=\(late.offsetText.replacingOccurrences(of: "+", with: "%2B"))", expected { $0 >= late.date }),
            ]
            for (query, ids) in windows {
                let answer = try await provhook.get("/v1/journal?\(query)&limit=10000", token: Self.token)
                #expect(answer.status == 200, "\(query): \(answer.body.prefix(300))")
                let got = Self.ids((answer.json["entries"] as? [[String: Any]]) ?? [])
                #expect(!ids.isEmpty && ids.count < times.count, "\(query) splits nothing")
                #expect(got == ids, "\(query)")
            }

            // Malformed values: the documented 400, whichever parameter.
            for query in [
                "since=yesterday", "until=tomorrow", "until=2026-11-26", "since=2026-11-26%2010:00:00Z",
                "until=2026-11-26T25:00:00Z", "mac=zz", "mac=0004130003", "after_id=abc", "limit=0", "limit=10001",
                "format=xml",
            ] {
                let answer = try await provhook.get("/v1/journal?\(query)", token: Self.token)
                #expect(answer.status == 400 && answer.errorCode == "invalid_query", "\(query): \(answer.status)")
            }
            // A value the database cannot store: a 400, never a 503.
            let nul = try await provhook.get("/v1/journal?action=event%00x", token: Self.token)
            #expect(nul.status == 400, "\(nul.status) \(nul.body)")
        }
    }

    @Test("/v1/accounts: add, list without a password, change, refuse removal while used; a tenant's account moves it")
    func accounts() async throws {
        try await EndToEnd.run(adminToken: Self.token) { run in
            let provhook = run.provhook
            #expect(try await run.send(#"{"type":"device.added","mac":"000413000501"}"#).status == 202)
            try await eventually("registered") { try await run.device("000413000501")?.status == .registered }

            let added = try await provhook.call(
                .POST, "/v1/accounts", token: Self.token,
                json: #"{"name":"reseller","user":"r-user","password":"r-Secret-Pa55","concurrency":2}"#)
            #expect(added.status == 201, "\(added.body)")
            let account = added.json["account"] as? [String: Any]
            #expect(account?["password_storage"] as? String == "sealed" && account?["concurrency"] as? Int == 2)
            let duplicate = try await provhook.call(
                .POST, "/v1/accounts", token: Self.token, json: #"{"name":"reseller","user":"u","password":"p"}"#)
            #expect(duplicate.status == 409)
            let listed = try await provhook.get("/v1/accounts", token: Self.token)
            let names = (listed.json["accounts"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
            let leaks = listed.body.contains("r-Secret-Pa55")
            #expect(listed.status == 200 && names == ["default", "reseller"] && !leaks)

            let changed = try await provhook.call(
                .PATCH, "/v1/accounts/reseller", token: Self.token,
                json: #"{"password":"r-New-Pa55","concurrency":null}"#)
            #expect(changed.status == 200)
            #expect((changed.json["account"] as? [String: Any])?["concurrency"] == nil, "null returns to the default")
            let unknown = try await provhook.call(.PATCH, "/v1/accounts/nobody", token: Self.token, json: "{}")
            #expect(unknown.status == 404)
            let noSlash = try await provhook.call(
                .PATCH, "/v1/accounts/reseller", token: Self.token, json: #"{"url":"https://x.example/xmlrpc"}"#)
            #expect(noSlash.status == 400)

            let moved = try await provhook.call(
                .PATCH, "/v1/tenants/acme", token: Self.token, json: #"{"account":"reseller"}"#)
            #expect(moved.status == 200 && moved.json["moving_devices"] as? Int == 1, "\(moved.body)")
            #expect((moved.json["tenant"] as? [String: Any])?["accounts"] as? [String: String] == ["snom": "reseller"])
            let move = try await run.store.journal(JournalFilter(mac: "000413000501", action: "device.move"))
            #expect(
                move.last?.detail["from_account"] == "default" && move.last?.detail["to_account"] == "reseller",
                "deregistered with the old account first, then registered with the new one")
            try await eventually("the first step: deregistered with the default account") {
                try await run.device("000413000501")?.account == "reseller"
            }
            #expect(await run.state.registration("000413000501") == nil)
            let used = try await provhook.call(.DELETE, "/v1/accounts/reseller", token: Self.token, json: nil)
            #expect(used.status == 409)
            let unknownAccount = try await provhook.call(
                .PATCH, "/v1/tenants/acme", token: Self.token, json: #"{"account":"nobody"}"#)
            #expect(unknownAccount.status == 409, "the tenant exists; the account it names does not")
            let twoForSnom = try await provhook.call(
                .PATCH, "/v1/tenants/acme", token: Self.token, json: #"{"accounts":["default","reseller"]}"#)
            #expect(
                twoForSnom.status == 409 && twoForSnom.body.contains(#"\"default\" and \"reseller\""#),
                "\(twoForSnom.body)")
            let badVendor = try await provhook.call(
                .PATCH, "/v1/tenants/acme", token: Self.token, json: #"{"drop_accounts":["no such vendor!"]}"#)
            #expect(badVendor.status == 400 && badVendor.body.contains("invalid_vendor"), "\(badVendor.body)")

            // Devices by vendor.
            let snomDevices = try await provhook.get("/v1/devices?vendor=snom", token: Self.token)
            #expect(snomDevices.status == 200 && snomDevices.body.contains("000413000501"), "\(snomDevices.body)")
            let yealinkDevices = try await provhook.get("/v1/devices?vendor=Yealink", token: Self.token)
            #expect(yealinkDevices.status == 200 && !yealinkDevices.body.contains("000413000501"))

            // Another Snom account made Snom's default: `default` is no longer it.
            let madeDefault = try await provhook.call(
                .PATCH, "/v1/accounts/reseller", token: Self.token, json: #"{"vendor_default":true}"#)
            let defaultAccount = madeDefault.json["account"] as? [String: Any]
            #expect(
                madeDefault.status == 200 && defaultAccount?["vendor_default"] as? Bool == true, "\(madeDefault.body)")
            let refusedFalse = try await provhook.call(
                .PATCH, "/v1/accounts/reseller", token: Self.token, json: #"{"vendor_default":false}"#)
            #expect(refusedFalse.status == 400)
            let listedAccounts = try await provhook.get("/v1/accounts", token: Self.token)
            let defaults = (listedAccounts.json["accounts"] as? [[String: Any]])?
                .filter { $0["vendor_default"] as? Bool == true }.compactMap { $0["name"] as? String }
            #expect(defaults == ["reseller"], "\(listedAccounts.body)")

            let journal = try await run.store.journal(JournalFilter(limit: 10000))
            let journaled = journal.map { "\($0.detail)" }.joined()
            #expect(!journaled.contains("r-Secret-Pa55") && !journaled.contains("r-New-Pa55"), "no password journaled")
            #expect(
                journal.contains { $0.action == "account.add" } && journal.contains { $0.action == "account.update" })
        }
    }

    @Test("PATCH rotate_secret answers the new secret once; the old one is then refused 401, the new one accepted")
    func rotateSecret() async throws {
        try await EndToEnd.run(adminToken: Self.token) { run in
            let provhook = run.provhook
            let oldSecret = run.secret
            #expect(try await run.send(#"{"type":"device.added","mac":"000413000401"}"#).status == 202)

            let rotated = try await provhook.call(
                .PATCH, "/v1/tenants/acme", token: Self.token, json: #"{"rotate_secret":true}"#)
            #expect(rotated.status == 200)
            #expect((rotated.json["tenant"] as? [String: Any])?["id"] as? String == "acme")
            guard let newSecret = rotated.json["webhook_secret"] as? String else {
                Issue.record("no webhook_secret in the answer")
                return
            }
            let isFresh = newSecret.hasPrefix("whsec_") && newSecret != oldSecret
            #expect(isFresh, "a new whsec_ secret")

            // Once: no later answer holds it.
            let renamed = try await provhook.call(
                .PATCH, "/v1/tenants/acme", token: Self.token, json: #"{"name":"ACME Renamed"}"#)
            let answersSecret = renamed.json["webhook_secret"] != nil
            #expect(renamed.status == 200 && !answersSecret)
            let listed = try await provhook.get("/v1/tenants", token: Self.token)
            let listsSecret = listed.body.contains(newSecret) || listed.body.contains(oldSecret)
            #expect(listed.status == 200 && !listsSecret)

            let old = try await provhook.send(
                tenant: "acme", body: #"{"type":"device.added","mac":"000413000402"}"#, secret: oldSecret)
            #expect(old.status == 401 && old.errorCode == "bad_signature")
            let new = try await provhook.send(
                tenant: "acme", body: #"{"type":"device.added","mac":"000413000402"}"#, secret: newSecret)
            #expect(new.status == 202)
            try await eventually("registered with the new secret") {
                try await run.device("000413000402")?.status == .registered
            }

            // The journal says a secret was rotated, by whom, and holds neither secret.
            let rows = try await Self.entries(provhook, "/v1/journal?tenant=acme&action=tenant.update&after_id=0")
            let rotation = rows.first { ($0["detail"] as? [String: Any])?["secret_rotated"] as? Bool == true }
            #expect(rows.count == 2 && rotation?["actor"] as? String == "admin:127.0.0.1")
            let page = try await provhook.get("/v1/journal?after_id=0&limit=10000", token: Self.token)
            let csv = try await provhook.get("/v1/journal?after_id=0&limit=10000&format=csv", token: Self.token)
            let stored = try await run.store.journal(JournalFilter(afterID: 0, limit: 10_000))
            let storedText = try stored.map { try JSONValueText.of($0.detail) + ($0.eventID ?? "") }.joined()
            let journalHoldsSecret = [page.body, csv.body, storedText].contains { text in
                text.contains(newSecret) || text.contains(oldSecret)
                    || text.contains(String(newSecret.dropFirst("whsec_".count)))
            }
            #expect(page.status == 200 && csv.status == 200 && !stored.isEmpty && !journalHoldsSecret)
        }
    }

    @Test("the CSV export makes a cell that starts with =, +, - or @ inert, quoting it where needed")
    func csvFormulaCells() async throws {
        try await EndToEnd.run(adminToken: Self.token) { run in
            // The webhook-id is the journal column a sender controls whole: printable ASCII, its first character too.
            let ids = [
                "=1+2", "+1+2", "-1+2", "@SUM(1)", #"=HYPERLINK("http://x.example/","y")"#, "-2,3",
            ]
            for (index, id) in ids.enumerated() {
                let mac = String(format: "0004130005%02X", index + 1)
                #expect(try await run.send(#"{"type":"device.added","mac":"\#(mac)"}"#, id: id).status == 202)
            }
            // A harmless id is left as it is.
            #expect(try await run.send(#"{"type":"device.added","mac":"000413000510"}"#, id: "msg_plain").status == 202)
            let answer = try await run.provhook.get(
                "/v1/journal?action=event.device.added&after_id=0&limit=1000&format=csv", token: Self.token)
            #expect(answer.status == 200)
            let rows = answer.body.split(separator: "\r\n").dropFirst()
            // The event_id cell of each row: after the id, at, tenant, mac, actor, action and outcome cells (none of
            // which holds a comma or a quote here).
            let cells = rows.map { row in
                row.split(separator: ",", maxSplits: 7, omittingEmptySubsequences: false).last.map(String.init) ?? ""
            }
            let expected = [
                "'=1+2,", "'+1+2,", "'-1+2,", "'@SUM(1),", #""'=HYPERLINK(""http://x.example/"",""y"")","#,
                #""'-2,3","#, "msg_plain,",
            ]
            #expect(cells.count == expected.count, "\(answer.body)")
            for (cell, prefix) in zip(cells, expected) {
                #expect(cell.hasPrefix(prefix), "\(cell)")
            }
        }
    }

    @Test("a cell that starts with a tab or a carriage return is made inert too")
    func csvControlCells() {
        #expect(JournalCSV.cell("\t=1+2") == "'\t=1+2")
        // A carriage return also needs quoting.
        #expect(JournalCSV.cell("\r=1+2") == "\"'\r=1+2\"")
        for lead in ["=", "+", "-", "@"] { #expect(JournalCSV.cell(lead + "x") == "'" + lead + "x") }
        #expect(JournalCSV.cell("x=1") == "x=1" && JournalCSV.cell("") == "")
        let entry = JournalEntry(
            tenantID: "acme", mac: "000413000601", actor: "cli:test", action: .eventRejected, outcome: .rejected,
            eventID: "\tcmd", detail: ["why": "=x"])
        let csv = JournalCSV.render([entry])
        // The detail cell starts with '{': quoted for its quotes, never prefixed.
        #expect(csv.contains(",'\tcmd,") && csv.hasSuffix(#","{""why"":""=x""}""# + "\r\n"), "\(csv)")
    }

    // MARK: - Helpers

    static func entries(_ provhook: RunningProvHook, _ path: String) async throws -> [[String: Any]] {
        let answer = try await provhook.get(path, token: Self.token)
        #expect(answer.status == 200, "\(path): \(answer.status)")
        return (answer.json["entries"] as? [[String: Any]]) ?? []
    }

    static func ids(_ entries: [[String: Any]]) -> [Int] { entries.compactMap { $0["id"] as? Int } }

    /// Follows `next_after_id` from the beginning; answers the ids in the order read and the number of pages.
    static func follow(_ provhook: RunningProvHook, _ path: String) async throws -> (ids: [Int], pages: Int) {
        var ids: [Int] = []
        var after = 0
        for page in 1...1000 {
            let answer = try await provhook.get("\(path)&after_id=\(after)", token: Self.token)
            #expect(answer.status == 200)
            let got = Self.ids((answer.json["entries"] as? [[String: Any]]) ?? [])
            ids += got
            guard let next = answer.json["next_after_id"] as? Int else { return (ids, page) }
            #expect(next == got.last, "next_after_id names the page's last row")
            after = next
        }
        Issue.record("paging did not end")
        return (ids, 1000)
    }

    struct Boundary {
        var date: Date
        /// RFC 3339 in UTC, with milliseconds.
        var text: String
        /// The same time at +01:00.
        var offsetText: String
    }

    /// Times with milliseconds that fall between rows: each has rows on both sides and none within 50 µs (so
    /// rounding to the database's microseconds cannot move a row across it), ordered.
    static func boundaries(between times: [Date]) -> [Boundary] {
        let sorted = times.sorted()
        var result: [Boundary] = []
        let formatter = ISO8601DateFormatter()
        let offsetFormatter = ISO8601DateFormatter()
        offsetFormatter.timeZone = TimeZone(secondsFromGMT: 3600)
        for time in sorted.dropLast() {
            let milliseconds = Int64((time.timeIntervalSince1970 * 1000).rounded(.down)) + 1
            let whole = Date(timeIntervalSince1970: Double(milliseconds / 1000))
            let fraction = String(format: ".%03d", Int(milliseconds % 1000))
            let text = formatter.string(from: whole).replacingOccurrences(of: "Z", with: fraction + "Z")
            let offset = offsetFormatter.string(from: whole).replacingOccurrences(
                of: "+01:00", with: fraction + "+01:00")
            guard let date = AdminController.dateTime(text), AdminController.dateTime(offset) == date,
                sorted.allSatisfy({ abs($0.timeIntervalSince(date)) > 0.000_05 }), date > sorted[0],
                date < sorted[sorted.count - 1], result.last.map({ $0.date < date }) ?? true
            else { continue }
            result.append(Boundary(date: date, text: text, offsetText: offset))
        }
        return result
    }
}
