import Foundation
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import Testing
import WebhookSignature
import XMLRPC

/// What a webhook's input gets, end to end through a running provhook: the exact status for bad input, and the
/// vendor and serial fields kept, replaced or refused.
@Suite("End to end: a webhook's input")
struct EndToEndInputTests {
    @Test("bad input gets the exact status and changes nothing")
    func badInput() async throws {
        try await EndToEnd.run { run in
            let good = #"{"type":"device.added","mac":"000413610FF5"}"#
            let provhook = run.provhook
            var answer = try await provhook.send(tenant: EndToEnd.tenant, body: good, secret: WebhookSecret.generate())
            #expect(answer.status == 401 && answer.errorCode == "bad_signature")
            answer = try await provhook.send(
                tenant: EndToEnd.tenant, body: good, secret: run.secret, timestamp: Date() - 360)
            #expect(answer.status == 401 && answer.errorCode == "stale_timestamp")
            answer = try await provhook.send(
                tenant: EndToEnd.tenant, body: good, secret: run.secret, timestamp: Date() + 360)
            #expect(answer.status == 401 && answer.errorCode == "stale_timestamp")
            answer = try await provhook.send(tenant: EndToEnd.tenant, body: good, secret: nil)
            #expect(answer.status == 401 && answer.errorCode == "missing_headers")
            answer = try await provhook.send(tenant: "nobody", body: good, secret: run.secret)
            #expect(answer.status == 404 && answer.errorCode == "unknown_tenant")
            let big =
                #"{"type":"device.added","mac":"000413610FF5","pad":""# + String(repeating: "x", count: 65 * 1024)
                + #""}"#
            answer = try await provhook.send(tenant: EndToEnd.tenant, body: big, secret: run.secret)
            #expect(answer.status == 413 && answer.errorCode == "too_large")
            for (body, code) in [
                ("{\"type\":\"device.added\",", "invalid_json"), ("[1,2]", "invalid_json"),
                (#"{"type":"device.added","mac":"00:04:13:61:0f"}"#, "malformed_mac"),
                (#"{"type":"device.added"}"#, "missing_mac"),
                (#"{"type":"device.exploded","mac":"000413610FF5"}"#, "unknown_type"),
                (#"{"type":"device.added","mac":5}"#, "malformed_mac"),
                (#"{"type":"device.added","mac":"000413610FF5","device_id":7}"#, "invalid_field"),
                (#"{"type":"device.added","mac":"000413610FF5","device_id":"a\u0000b"}"#, "invalid_json"),
                // 150 characters, but 300 code points (e + U+0301 each), as PostgreSQL counts them: over the 200.
                (
                    #"{"type":"device.added","mac":"000413610FF5","device_id":""#
                        + String(repeating: "e\u{0301}", count: 150) + #""}"#, "invalid_field"
                ),
            ] {
                answer = try await run.send(body)
                #expect(answer.status == 400 && answer.errorCode == code, "\(body)")
            }
            #expect(try await run.store.devices().isEmpty, "no device changed")
            #expect(await run.state.calls.isEmpty, "nothing was sent")
            let rejected = try await run.store.journal(JournalFilter(action: "event.rejected"))
            #expect(rejected.count == 9, "authenticated rejections are journaled; unauthenticated ones are not")
            let metrics = try await provhook.get("/metrics")
            #expect(
                metrics.body.contains(#"provhook_webhook_rejections_total{reason="bad_signature",source="native"} 1"#))
            #expect(
                metrics.body.contains(#"provhook_webhook_rejections_total{reason="unknown_tenant",source="native"} 1"#))
        }
    }

    @Test("a vendor that is not a string is answered 400 invalid_field, saying so; a string vendor is accepted")
    func vendorOfAnotherType() async throws {
        try await EndToEnd.run { run in
            for body in [
                #"{"type":"device.added","mac":"000413610FF5","model":"D785","vendor":7}"#,
                #"{"type":"device.updated","mac":"000413610FF5","vendor":["snom"]}"#,
            ] {
                let answer = try await run.send(body)
                #expect(answer.status == 400 && answer.errorCode == "invalid_field", "\(body): \(answer.body)")
                #expect(
                    (answer.json["error"] as? [String: Any])?["message"] as? String == #""vendor" must be a string"#,
                    "\(answer.body)")
            }
            #expect(try await run.store.devices().isEmpty, "nothing was recorded")
            let answer = try await run.send(#"{"type":"device.added","mac":"000413610FF5","vendor":"snom"}"#)
            #expect(answer.status == 202, "\(answer.body)")
        }
    }

    @Test("a vendor over 64 characters is answered 400 invalid_field, saying so; 64 are accepted")
    func vendorTooLong() async throws {
        try await EndToEnd.run { run in
            let long = String(repeating: "v", count: 65)
            var answer = try await run.send(#"{"type":"device.added","mac":"000413610FF5","vendor":"\#(long)"}"#)
            #expect(answer.status == 400 && answer.errorCode == "invalid_field", "\(answer.body)")
            #expect(
                (answer.json["error"] as? [String: Any])?["message"] as? String
                    == #""vendor" must be at most 64 characters"#, "\(answer.body)")
            #expect(try await run.store.devices().isEmpty, "nothing was recorded")
            let rejected = try await run.store.journal(JournalFilter(action: "event.rejected"))
            #expect(rejected.count == 1 && rejected.first?.detail["code"] == "invalid_field", "journaled")
            answer = try await run.send(
                #"{"type":"device.added","mac":"000413610FF5","vendor":"\#(String(long.dropLast()))"}"#)
            #expect(answer.status == 202, "\(answer.body)")
        }
    }

    @Test(
        "a serial number an event gives is stored and shown by device show; kept by an event without one, replaced by one with another"
    )
    func serialNumberKeptAndReplaced() async throws {
        try await EndToEnd.run { run in
            let mac = "000413610FF5"
            let cli = DeviceCareCommandTests.cli(run)
            func shown() async throws -> String {
                let result = try await cli.run(["device", "show", mac])
                #expect(result.status == 0, "\(result.error)")
                return result.output
            }
            #expect(try await run.send(#"{"type":"device.added","mac":"\#(mac)"}"#).status == 202)
            #expect(try await run.device(mac)?.serial == nil)
            #expect(try await shown().contains(#/\nserial +-\n/#), "no serial yet")

            var answer = try await run.send(
                #"{"type":"device.updated","mac":"\#(mac)","model":"D785","serial":" 0004F2AB1234 "}"#)
            #expect(answer.status == 202, "\(answer.body)")
            #expect(try await run.device(mac)?.serial == "0004F2AB1234", "given, trimmed")
            #expect(try await shown().contains(#/\nserial +0004F2AB1234\n/#))

            // An event without one, or with an empty one, keeps it (as a device keeps its vendor).
            for body in [
                #"{"type":"device.updated","mac":"\#(mac)","extension":"201"}"#,
                #"{"type":"device.added","mac":"\#(mac)","serial":""}"#,
                #"{"type":"device.added","mac":"\#(mac)","serial":null}"#,
            ] {
                answer = try await run.send(body)
                #expect(answer.status == 202, "\(body): \(answer.body)")
                #expect(try await run.device(mac)?.serial == "0004F2AB1234", "\(body)")
            }
            // Another replaces it; a refused one changes nothing.
            answer = try await run.send(#"{"type":"device.added","mac":"\#(mac)","serial":"SN-2"}"#)
            #expect(answer.status == 202, "\(answer.body)")
            #expect(try await shown().contains(#/\nserial +SN-2\n/#))
            answer = try await run.send(#"{"type":"device.added","mac":"\#(mac)","serial":"SN 3"}"#)
            #expect(answer.status == 400, "\(answer.body)")
            #expect(try await run.device(mac)?.serial == "SN-2")

            // The journal's rows say which event gave which serial; the admin-facing JSON has it.
            let accepted = try await run.store.journal(JournalFilter(mac: mac, limit: 100)).filter {
                $0.action.hasPrefix("event.device.") && $0.outcome == "accepted"
            }
            #expect(accepted.compactMap { $0.detail["serial"] } == ["0004F2AB1234", "SN-2"])
            let json = try await cli.run(["device", "show", mac, "--json"])
            let device = (try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])?["device"]
            #expect((device as? [String: Any])?["serial"] as? String == "SN-2", "\(json.output)")
        }
    }

    @Test("a serial number that is not one is answered 400 invalid_field naming the field and why; nothing is recorded")
    func serialNumberRefused() async throws {
        try await EndToEnd.run { run in
            for (serial, why) in [
                (#""80 11""#, "not a space"), (#"8011"#, "must be a string"),
                (#""\#(String(repeating: "9", count: 65))""#, "must be at most 64 characters"),
            ] {
                let answer = try await run.send(#"{"type":"device.added","mac":"000413610FF5","serial":\#(serial)}"#)
                #expect(answer.status == 400 && answer.errorCode == "invalid_field", "\(serial): \(answer.body)")
                let message = (answer.json["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(message.hasPrefix(#""serial" "#) && message.contains(why), "\(message)")
            }
            #expect(try await run.store.devices().isEmpty, "nothing was recorded")
            let rejected = try await run.store.journal(JournalFilter(action: "event.rejected"))
            #expect(rejected.count == 3 && rejected.allSatisfy { $0.detail["code"] == "invalid_field" }, "journaled")
        }
    }
}
