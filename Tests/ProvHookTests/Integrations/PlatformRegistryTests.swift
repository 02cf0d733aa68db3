import HTTPTypes
import Integrations
import ProvHookCore
import Testing

@Suite("The registry of platforms")
struct PlatformRegistryTests {
    @Test("every kind of source has exactly one platform, and the native contract none")
    func everyKindHasOnePlatform() {
        for kind in SourceKind.allCases {
            #expect(Platforms.sources.filter { $0.kind == kind }.count == 1, "\(kind)")
            #expect(Platforms.platform(for: kind).kind == kind)
        }
        #expect(Platforms.native.kind == nil)
    }

    @Test("each platform is answered as it retries: Kazoo 200 for all, Wazo 410 for a refusal, the rest 202/200/400")
    func answers() {
        let refused = IntakeOutcome.refused(EventRejection(code: .malformedMAC, message: "x"))
        let outcomes: [IntakeOutcome] = [.accepted(queued: true), .duplicate, .ignored(reason: "x"), refused]
        let expected: [SourceKind: [HTTPResponse.Status]] = [
            .kazoo: [.ok, .ok, .ok, .ok], .wazo: [.accepted, .ok, .ok, .gone],
            .mapping: [.accepted, .ok, .ok, .badRequest],
        ]
        for (kind, statuses) in expected {
            #expect(outcomes.map(Platforms.platform(for: kind).answers.status(for:)) == statuses, "\(kind)")
        }
        #expect(outcomes.map(Platforms.native.answers.status(for:)) == [.accepted, .ok, .ok, .badRequest])
        #expect(Platforms.platform(for: .kazoo).answers.closesConnectionWhenUnavailable)
        #expect(Platforms.closesConnectionWhenUnavailable([HTTPField.Name("X-Hook-ID")!: "1"]))
        #expect(!Platforms.closesConnectionWhenUnavailable([:]))
    }

    @Test("the rejection codes keep their wire strings")
    func rejectionCodes() {
        #expect(EventRejection.Code.allCases.count == Set(EventRejection.Code.allCases.map(\.rawValue)).count)
        #expect(EventRejection.Code.macInUse.rawValue == "mac_in_use")
        #expect(EventRejection.Code.invalidWebhookID.rawValue == "invalid_webhook_id")
        #expect(DirectoryError.notFound("x").code.rawValue == "device_not_found")
    }
}
