import ProvisioningModel

/// One call to the service, covering one or more claimed devices.
enum DeliveryCall: Sendable {
    case register(ClaimedDevice, url: String)
    case registerList([ClaimedDevice], url: String)
    case deregister(ClaimedDevice)
    case deregisterList([ClaimedDevice])

    var devices: [ClaimedDevice] {
        switch self {
        case .register(let device, _), .deregister(let device): [device]
        case .registerList(let devices, _), .deregisterList(let devices): devices
        }
    }

    var method: RedirectMethod {
        switch self {
        case .register: .registerPhone
        case .registerList: .registerPhoneList
        case .deregister: .deregisterPhone
        case .deregisterList: .deregisterPhoneList
        }
    }

    var url: String? {
        switch self {
        case .register(_, let url), .registerList(_, let url): url
        case .deregister, .deregisterList: nil
        }
    }

    /// Groups claimed devices into calls: removals (and moves' first steps) as `deregisterPhoneList`, registrations that share a URL as
    /// `registerPhoneList`, at most `maxListSize` MACs each; a group of one is a single call.
    static func plan(_ devices: [ClaimedDevice], maxListSize: Int) -> [DeliveryCall] {
        var calls: [DeliveryCall] = []
        // A move's first step deregisters the MAC with the account that holds it, whatever the desired state.
        let removals = devices.filter { $0.desired == .deregistered || $0.moveTo != nil }
        for chunk in removals.chunks(of: maxListSize) {
            calls.append(chunk.count == 1 ? .deregister(chunk[0]) : .deregisterList(chunk))
        }
        let registrations = devices.filter { $0.desired == .registered && $0.moveTo == nil }
        var byURL: [String: [ClaimedDevice]] = [:]
        var order: [String] = []
        for device in registrations {
            let url = device.url ?? ""
            if byURL[url] == nil { order.append(url) }
            byURL[url, default: []].append(device)
        }
        for url in order {
            for chunk in byURL[url]!.chunks(of: maxListSize) {
                calls.append(chunk.count == 1 ? .register(chunk[0], url: url) : .registerList(chunk, url: url))
            }
        }
        return calls
    }
}

extension Array {
    func chunks(of size: Int) -> [[Element]] {
        let step = Swift.max(1, size)
        return stride(from: 0, to: self.count, by: step).map { Array(self[$0..<Swift.min($0 + step, self.count)]) }
    }
}
