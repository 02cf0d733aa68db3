import ProvisioningModel

/// The journal row of one device's call to the redirection service is built here and nowhere else: `call` gives the
/// call's facts, the worker sets the outcome and adds the answer (`DeliveryWorker.outcome`), and the store adds, in
/// the statement that writes the row, whether the outcome could be applied (`callSuperseded`, `callClaimLost`).
extension JournalEntry {
    /// A call of `worker` for `device`, before its answer is known (`ok` until the worker says otherwise): the
    /// method, attempt, latency, call id, generation and account, and for a move, a batch or a registration the
    /// account moved to, the batch's size and the URL.
    static func call(
        _ call: DeliveryCall, for device: ClaimedDevice, callID: String, latencyMS: Double, account: String,
        worker instance: String
    ) -> JournalEntry {
        var detail: [String: JSONValue] = [
            "method": .string(call.method.rawValue), "attempt": .number(Double(device.attempt)),
            "latency_ms": .number((latencyMS * 10).rounded() / 10), "call_id": .string(callID),
            "generation": .number(Double(device.generation)), "account": .string(account),
        ]
        if let moveTo = device.moveTo { detail["move_to"] = .string(moveTo) }
        if call.devices.count > 1 { detail["batch_size"] = .number(Double(call.devices.count)) }
        if let url = call.url { detail["url"] = .string(url) }
        return JournalEntry(
            tenantID: device.tenantID, mac: device.mac.canonical,
            actor: JournalActor.worker(instance: instance).rawValue, action: .call(call.method), outcome: .ok,
            detail: detail)
    }

    /// Added to a call's row when the device's desired state changed while the call was in flight.
    static let callSuperseded: [String: JSONValue] = [
        "superseded": true, "note": "the desired state changed during the call; the newer generation will be applied",
    ]

    /// Added to a call's row when the claim passed to another worker before the answer.
    static let callClaimLost: [String: JSONValue] = [
        "claim_lost": true, "note": "the claim expired before the answer; another worker has the device",
    ]
}
