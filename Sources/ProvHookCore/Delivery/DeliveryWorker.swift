import Foundation
import Logging
import PostgresNIO
import ProvisioningModel

/// Applies each device's desired state at the redirection service.
///
/// It claims due devices with `FOR UPDATE SKIP LOCKED` and a lease, calls the service outside any transaction
/// with bounded concurrency, and writes each outcome guarded by the claimed generation. It sleeps until a commit
/// wakes it (in-process, or by NOTIFY from other processes) or until the next retry is due.
public struct DeliveryWorker: Sendable {
    let store: Store
    /// The redirection account whose devices this worker applies; each account has its own worker.
    let account: String
    /// The service to call with that account's credentials: a vendor's client, or the dry run's stand-in.
    let redirect: any ProvisioningService
    let configuration: DeliveryConfiguration
    /// MACs per batch call: `configuration.maxListSize`, capped by the service's own limit.
    let listSize: Int
    /// Wakes the loop when work is queued.
    let signal: WorkSignal
    let metrics: ProvHookMetrics
    /// What the calls teach about the service, for `/readyz`.
    let health: ServiceHealth
    /// Wakes every account's worker: a move's first step makes work for another account.
    let wakeAll: WorkSignal?
    /// Writes the outcomes of calls answered together in one statement.
    let outcomeWriter: OutcomeWriter
    let logger: Logger

    /// Made by `AccountDelivery`, for `serve` (one worker per account) and for `reconcile --apply` alike.
    init(
        store: Store, account: String = RedirectAccount.defaultName, redirect: any ProvisioningService,
        configuration: DeliveryConfiguration, signal: WorkSignal, metrics: ProvHookMetrics, health: ServiceHealth,
        wakeAll: WorkSignal? = nil, logger: Logger
    ) {
        self.store = store
        self.account = account
        self.wakeAll = wakeAll
        self.redirect = redirect
        self.configuration = configuration
        self.listSize = redirect.descriptor.batchSize(within: configuration.maxListSize)
        self.signal = signal
        self.metrics = metrics
        self.health = health
        self.logger = logger
        let lease = configuration.lease
        self.outcomeWriter = OutcomeWriter { outcomes in
            await Self.record(outcomes, store: store, lease: lease, logger: logger)
        }
    }

    /// When the delivery loop stops claiming new work.
    enum Stop: Sendable {
        /// At shutdown only: `serve`.
        case atShutdown
        /// Once nothing is due and no call is in flight, or at `deadline`: `reconcile --apply`.
        case whenIdle(deadline: ContinuousClock.Instant)
    }

    /// The delivery loop: claim ahead into a short queue of calls, send each as a call slot frees, sleep when
    /// nothing is due. Returns the number of calls made.
    ///
    /// The queue is refilled by a claim that runs while calls go out (`ClaimInFlight`), so that a slot waits for a
    /// claim only when the queue has run dry: it holds up to two rounds of calls (`concurrency` each). A claim takes
    /// one device for each call wanted, fairly between tenants, then fills a list for each of those devices where it
    /// can (`claimAlongside`: removals, and registrations to a URL that a tenant's devices share), so that each call
    /// carries as many MACs as it can. A slot is held only while its call is at the service: it is freed as the answer
    /// arrives, and the outcome is written after, so the service sees `concurrency` calls in flight rather than fewer
    /// while outcomes commit.
    @discardableResult
    func deliver(until stop: Stop = .atShutdown) async -> Int {
        let concurrency = self.configuration.concurrency
        let slots = CallSlots(concurrency)
        var queue = CallQueue()
        // The last claim found less than it asked: claim again only once something new is queued.
        var exhausted = false
        // At most one claim runs at a time, beside the calls.
        var claiming: ClaimInFlight?
        var calls = 0
        await withDiscardingTaskGroup { group in
            delivering: while !self.signal.isStopped && !Task.isCancelled {
                if case .whenIdle(let deadline) = stop, ContinuousClock.now >= deadline { break }
                if claiming == nil,
                    queue.isEmpty || (queue.count < concurrency && (!exhausted || self.signal.consumeWake()))
                {
                    claiming = self.claim(wanted: 2 * concurrency - queue.count)
                }
                // Waits for the claim only when nothing is left to send.
                if let claim = claiming, queue.isEmpty || claim.hasEnded {
                    claiming = nil
                    switch await claim.result() {
                    case .success(let claimed):
                        exhausted = claimed.exhausted
                        if !claimed.devices.isEmpty {
                            let planned = DeliveryCall.plan(claimed.devices, maxListSize: self.listSize)
                            queue.append(planned)
                            self.logger.debug(
                                "claimed",
                                metadata: ["devices": "\(claimed.devices.count)", "calls": "\(planned.count)"])
                        }
                    case .failure(let error):
                        self.logger.error("cannot claim work", metadata: ["error": "\(error)"])
                        if queue.isEmpty {
                            if case .whenIdle = stop { break delivering }
                            await self.signal.wait(upTo: .seconds(2))
                            continue
                        }
                    }
                }
                guard let call = queue.first else {
                    if case .whenIdle = stop {
                        guard slots.free < concurrency else { break }
                        await slots.waitForRelease()
                    } else {
                        // New work or the next due time, whichever first.
                        await self.sleepUntilDue()
                    }
                    continue
                }
                await slots.acquire()
                if self.signal.isStopped {
                    slots.release()
                    break
                }
                queue.removeFirst()
                calls += 1
                group.addTask { await self.perform(call, releasing: slots) }
            }
            // Calls claimed but not sent go back; the group waits for in-flight calls to record their outcomes.
            var unsent = queue.drain().flatMap(\.devices)
            if let claim = claiming, case .success(let claimed) = await claim.result() { unsent += claimed.devices }
            if !unsent.isEmpty { try? await self.store.releaseClaims(unsent) }
        }
        return calls
    }

    /// Starts a claim of up to `wanted` due devices, fairly between tenants, and of the devices that can share
    /// their lists (`Store.claimAlongside`).
    private func claim(wanted: Int) -> ClaimInFlight {
        ClaimInFlight.start { () async throws(StoreError) -> ClaimInFlight.Claimed in
            var claimed = try await self.store.claimDue(
                account: self.account, limit: wanted, lease: self.configuration.lease)
            let exhausted = claimed.count < wanted
            // A claim that found fewer due devices than it asked took every one: none is left to fill its lists
            // with, so the second round trip is made only after a full claim.
            if !exhausted {
                do {
                    claimed += try await self.store.claimAlongside(
                        claimed, listSize: self.listSize, lease: self.configuration.lease)
                } catch {
                    // The devices already claimed are sent: failing the claim would leave them leased, unsent.
                    self.logger.error("cannot claim devices for the same lists", metadata: ["error": "\(error)"])
                }
            }
            return (claimed, exhausted)
        }
    }

    /// Applies due work now, in this process, until nothing is due or `limit` passes; returns the calls made.
    /// Used by `reconcile --apply`, so that its fixes are applied even when no `serve` runs. It is the same loop as
    /// `serve`'s and claims like any worker, so it is safe while `serve` runs too.
    public func drain(limit: Duration) async -> Int {
        await self.deliver(until: .whenIdle(deadline: ContinuousClock.now + limit))
    }

    private func sleepUntilDue() async {
        var limit = self.configuration.idleWake
        do {
            if let next = try await self.store.nextDueDate(account: self.account) {
                let seconds = max(0.005, next.timeIntervalSinceNow + 0.005)
                limit = min(limit, .milliseconds(Int64(seconds * 1000)))
            }
        } catch {
            limit = .seconds(2)
        }
        await self.signal.wait(upTo: limit)
    }

    /// Makes one call and records every device's outcome; frees `slots` once the call is answered.
    ///
    /// A call is sent only if it ends, at its deadline, before its claim could pass to another worker; a claim that
    /// waited too long for a slot is given back, and the devices are claimed afresh.
    func perform(_ call: DeliveryCall, releasing slots: CallSlots) async {
        let started = ContinuousClock.now
        guard call.devices.allSatisfy({ self.configuration.maySend(claimedAt: $0.claimedAt, now: started) }) else {
            self.logger.notice(
                "a claim waited too long for a call slot; giving it back",
                metadata: ["devices": "\(call.devices.count)"])
            try? await self.store.releaseClaims(call.devices)
            slots.release()
            self.signal.wake()
            return
        }
        // A whole UUID: 8 hex digits (32 bits) repeat within about 100,000 calls, one onboarded fleet's drain, and
        // an auditor grouping a list call's rows by its id would then join two calls.
        let callID = UUID().uuidString.lowercased()
        self.logger.debug(
            "calling",
            metadata: [
                "call_id": "\(callID)", "method": "\(call.method.shortName)", "devices": "\(call.devices.count)",
                "mac": "\(call.devices[0].mac)",
            ])
        let result: Result<[String: RedirectOutcome], RedirectError>
        do {
            result = .success(try await self.send(call))
        } catch {
            result = .failure(error)
        }
        let latency = ContinuousClock.now - started
        slots.release()
        let latencyMS = Double(latency.components.seconds) * 1000 + Double(latency.components.attoseconds) / 1e15
        let outcomes = call.devices.map { device in
            self.outcome(for: device, call: call, result: result, callID: callID, latencyMS: latencyMS)
        }
        self.metrics.call(
            method: call.method.shortName, outcome: Self.metricOutcome(result), account: self.account, latency: latency)
        switch result {
        case .success: self.health.recordAnswer()
        case .failure(.authenticationFailed):
            self.health.recordAuthenticationFailure()
            self.logger.error(
                "the redirection service refused our credentials; work stays queued",
                metadata: ["method": "\(call.method.shortName)", "account": "\(self.account)"])
        case .failure(let error) where error.isTransient:
            self.health.recordTransportFailure(error.description)
            self.logger.warning(
                "redirection call failed; will retry",
                metadata: ["method": "\(call.method.shortName)", "account": "\(self.account)", "error": "\(error)"])
        case .failure(let error):
            self.logger.warning(
                "redirection call failed", metadata: ["method": "\(call.method.shortName)", "error": "\(error)"])
        }
        self.logger.debug("recording", metadata: ["call_id": "\(callID)"])
        let applied = await self.outcomeWriter.record(outcomes)
        self.logger.debug("recorded", metadata: ["call_id": "\(callID)"])
        // The slot was freed before the outcomes were written, so the loop may already have looked for due work
        // while these devices were still claimed, and be asleep until its idle wake. A device to retry, or one whose
        // desired state changed during the call, is due again soon: wake the loop to look once more.
        if let applied,
            outcomes.contains(where: { $0.status == .pending || !applied.contains($0.device.mac.canonical) })
        {
            self.signal.wake()
        }
        // A move's first step made work for the new account's worker.
        if applied != nil, outcomes.contains(where: \.moved) { self.wakeAll?.wake() }
        if let applied, self.redirect.descriptor.keepsDevicePINs, !self.configuration.isDryRun {
            await self.keepPINs(of: outcomes.filter { applied.contains($0.device.mac.canonical) })
        }
    }

    /// Fetches the PINs the service keeps for the phones it just registered and keeps them sealed, and forgets those
    /// of the phones it deregistered. A PIN that cannot be fetched is not worth a retry of the registration: it is
    /// logged (never the PIN itself), and the next registration of the phone fetches it again.
    private func keepPINs(of outcomes: [DeliveryOutcome]) async {
        let registered = outcomes.filter { $0.status == .registered && $0.device.moveTo == nil }.map(\.device.mac)
        // A move's first step deregistered the phone here: the PIN was this service's.
        let deregistered = outcomes.filter { $0.status == .deregistered || $0.moved }.map(\.device.mac)
        guard !registered.isEmpty || !deregistered.isEmpty else { return }
        var pins: [MACAddress: String] = [:]
        do {
            let size = self.redirect.descriptor.batchSize(within: self.configuration.maxListSize)
            for chunk in registered.chunks(of: size) {
                pins.merge(try await self.redirect.devicePINs(chunk)) { _, new in new }
            }
            try await self.store.keepDevicePINs(pins, forgetting: deregistered)
        } catch {
            self.logger.warning(
                "cannot keep the device PINs of registered phones; `device show` shows none until the next registration",
                metadata: ["account": "\(self.account)", "devices": "\(registered.count)", "error": "\(error)"])
        }
    }

    /// Writes calls' outcomes (`OutcomeWriter` joins those answered together), retrying while the database is away
    /// (a restart, a failover) for a lease from the write's start: the answer is known and should not wait for the
    /// lease to expire. Past that, or on cancellation, the claims expire and the calls are repeated; register and
    /// deregister are idempotent. (A late write is harmless: the claim token turns it into `claim_lost`.)
    /// Answers the positions of the outcomes that were applied (the others were superseded, or their claim had
    /// passed on), or nil if nothing was written.
    private static func record(
        _ outcomes: [DeliveryOutcome], store: Store, lease: Duration, logger: Logger
    ) async -> Set<Int>? {
        let deadline = ContinuousClock.now + lease
        var pause = Duration.milliseconds(100)
        while true {
            do {
                return try await store.recordOutcomes(outcomes)
            } catch {
                guard !Task.isCancelled, ContinuousClock.now + pause < deadline else {
                    logger.error(
                        "cannot record call outcomes; the call will be repeated", metadata: ["error": "\(error)"])
                    return nil
                }
                logger.warning("cannot record call outcomes yet; retrying", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .seconds(5))
        }
    }

    /// Sends a call; the answer for each device, by MAC.
    private func send(_ call: DeliveryCall) async throws(RedirectError) -> [String: RedirectOutcome] {
        switch call {
        case .register(let device, let url):
            return [
                device.mac.canonical: try await self.redirect.register(
                    device.mac, serial: self.registrationValue(of: device), at: url)
            ]
        case .deregister(let device):
            return [device.mac.canonical: try await self.redirect.deregister(device.mac)]
        case .registerList(let devices, let url):
            let serials = Dictionary(
                devices.compactMap { device in self.registrationValue(of: device).map { (device.mac, $0) } }
            ) { first, _ in first }
            return Self.perDevice(
                devices, try await self.redirect.register(devices.map(\.mac), serials: serials, at: url))
        case .deregisterList(let devices):
            return Self.perDevice(devices, try await self.redirect.deregister(devices.map(\.mac)))
        }
    }

    /// What the service registers a device with besides its MAC: the code printed on it for a service that needs
    /// one (Gigaset's, `DeviceRequirements.deviceCode`), else its serial number.
    private func registrationValue(of device: ClaimedDevice) -> String? {
        self.redirect.descriptor.requirements.contains(.deviceCode) ? device.gigasetCode : device.serial
    }

    private static func perDevice(_ devices: [ClaimedDevice], _ outcome: ListOutcome) -> [String: RedirectOutcome] {
        var answers: [String: RedirectOutcome] = [:]
        for device in devices {
            switch outcome {
            case .ok: answers[device.mac.canonical] = .ok
            case .error(let code): answers[device.mac.canonical] = .error(code)
            case .partial: answers[device.mac.canonical] = outcome.failure(for: device.mac).map { .error($0) } ?? .ok
            }
        }
        return answers
    }
}
