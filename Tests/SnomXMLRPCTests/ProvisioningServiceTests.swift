import ProvisioningModel
import SnomXMLRPC
import SnomXMLRPCStandIn
import Testing

@Suite("The Snom XML-RPC client as a ProvisioningService")
struct ProvisioningServiceTests {
    let mac = MACAddress("00:04:13:61:0F:F5")!
    let other = MACAddress("000413610FF6")!
    let url = "https://prov.example.com/snom/{mac}.xml"

    @Test("each vendor-neutral call is one of the seven methods, with the same answer")
    func neutralCalls() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            let service: any ProvisioningService = standIn.client
            #expect(try await service.ownership(of: self.mac) == .error(.noSuchMAC))
            #expect(try await service.register(self.mac, at: self.url) == .ok)
            #expect(try await service.redirection(of: self.mac) == .redirected(company: "Our Company", url: self.url))
            #expect(try await service.register([self.other], at: self.url) == .ok)
            #expect(try await service.registeredMACs(model: "snomD785", url: self.url) == [self.mac, self.other])
            #expect(try await service.deregister([self.other]) == .ok)
            #expect(try await service.deregister(self.mac) == .ok)
            let methods = await standIn.state.calls.map(\.method)
            #expect(
                methods == [
                    "redirect.checkPhone", "redirect.registerPhone", "redirect.getPhoneRedirection",
                    "redirect.registerPhoneList", "redirect.listPhones", "redirect.deregisterPhoneList",
                    "redirect.deregisterPhone",
                ])
        }
    }

    @Test("it describes Snom's XML-RPC service: MAC only, no batch cap of its own, lists by model")
    func descriptor() {
        let descriptor = RedirectClient.descriptor
        #expect(descriptor.kind == .snomXMLRPC)
        #expect(descriptor.requirements.isEmpty)
        #expect(descriptor.maxBatchSize == nil)
        #expect(descriptor.batchSize(within: 100) == 100)
        #expect(descriptor.listing == .byModel)
    }
}
