import ProvisioningModel
import Testing

@Suite("What a provisioning service says of itself")
struct ServiceDescriptorTests {
    func descriptor(maxBatchSize: Int?) -> ServiceDescriptor {
        ServiceDescriptor(
            kind: ServiceKind(rawValue: "test"), name: "test", requirements: [.serialNumber],
            maxBatchSize: maxBatchSize, listing: .unavailable)
    }

    @Test("a batch is the installation's size, capped by the service's own, and never empty")
    func batchSize() {
        #expect(self.descriptor(maxBatchSize: nil).batchSize(within: 100) == 100)
        #expect(self.descriptor(maxBatchSize: 50).batchSize(within: 100) == 50)
        #expect(self.descriptor(maxBatchSize: 500).batchSize(within: 100) == 100)
        #expect(self.descriptor(maxBatchSize: 1).batchSize(within: 100) == 1, "no batch call: one MAC a call")
        #expect(self.descriptor(maxBatchSize: 0).batchSize(within: 100) == 1)
    }

    @Test("a service that needs a serial number says so")
    func requirements() {
        #expect(self.descriptor(maxBatchSize: nil).requirements.contains(.serialNumber))
        #expect(!self.descriptor(maxBatchSize: nil).requirements.contains(.model))
    }

    @Test("a kind's vendor is its first word: snom and snom-sraps are Snom's, yealink-rps Yealink's")
    func vendorOfKind() {
        #expect(ServiceKind.snomXMLRPC.vendor == .snom)
        #expect(ServiceKind.snomSRAPS.vendor == .snom)
        #expect(ServiceKind(rawValue: "yealink-rps").vendor == .yealink)
        #expect(ServiceKind(rawValue: "-rps").vendor == nil)
    }
}
