import Deadlines
import Foundation
import Logging
import ProvisioningModel
import ServiceLifecycle
import Synchronization

/// Resolves the events that name a device only by id: asks the source's PBX API for the MAC, model, brand and serial
/// number, then records the event through the planner like any other, under its own event id (so that a lookup
/// resolved twice, by a process that died before deleting it, is recorded once).
///
/// Up to `concurrency` lookups are made at once, the oldest of each source first and at most `perSource` of one
/// source at a time (across all processes), so that a slow PBX, whose lookup can take a minute, holds back only its
/// own source's lookups. Each lookup, logins included, ends within `attemptLimit`.
///
/// A failure that can pass (the API down, slow, refusing the credentials, answering nonsense) is journaled and tried
/// again with a growing delay, up to `maxDelay`, until the lookup is `giveUpAfter` old: then it is dropped and
/// journaled as `gave_up`. A PBX that answers that it has no such device, or has no MAC for it, rejects the event for
/// good (journaled).
public struct LookupWorker: NamedService {
    let store: Store
    /// Wakes the loop when a lookup is queued by this process, or one of its lookups ends.
    let signal: WorkSignal
    let metrics: ProvHookMetrics
    /// Records what a lookup found through the planner, counted, and waking the delivery worker (`deliverySignal`)
    /// when it queued a call, as a webhook's event would.
    let intake: Intake
    let directories: DirectoryCache
    let configuration: Configuration
    let logger: Logger

    /// How lookups are paced.
    public struct Configuration: Sendable {
        /// How long to wait for the PBX's API to connect, and then to answer.
        public var connectTimeout: Duration
        public var readTimeout: Duration
        /// The delay after the first failure; it doubles with each one, up to `maxDelay`.
        public var firstDelay: Duration
        public var maxDelay: Duration
        /// How often the table is checked for lookups due again, and queued by other processes.
        public var pollInterval: Duration
        /// The most lookups this process makes at once (`PROVHOOK_LOOKUP_CONCURRENCY`).
        public var concurrency: Int
        /// The most lookups of one source in flight at once, all processes together (`PROVHOOK_LOOKUP_PER_SOURCE`).
        public var perSource: Int
        /// How old a lookup (from its first event) may be when it fails and is still tried again
        /// (`PROVHOOK_LOOKUP_GIVE_UP_SECONDS`); a failure at this age gives it up.
        public var giveUpAfter: Duration

        public init(
            connectTimeout: Duration = .seconds(5), readTimeout: Duration = .seconds(10),
            firstDelay: Duration = .seconds(5), maxDelay: Duration = .seconds(600),
            pollInterval: Duration = .seconds(2),
            concurrency: Int = 4, perSource: Int = 1, giveUpAfter: Duration = .seconds(3600)
        ) {
            self.connectTimeout = connectTimeout
            self.readTimeout = readTimeout
            self.firstDelay = firstDelay
            self.maxDelay = maxDelay
            self.pollInterval = pollInterval
            self.concurrency = max(1, concurrency)
            self.perSource = max(1, perSource)
            self.giveUpAfter = giveUpAfter
        }

        /// The delay before attempt `attempts + 1`.
        func delay(afterAttempt attempts: Int) -> Duration {
            let doublings = min(max(attempts - 1, 0), 20)
            return min(self.firstDelay * (1 << doublings), self.maxDelay)
        }

        /// The longest one lookup may take. The clients bound each exchange by the two timeouts, and a lookup is at
        /// most four exchanges (a login, the call, and on a 401 a login and the call again); the worker holds the
        /// whole lookup to that too, whatever a client does.
        public var attemptLimit: Duration { (self.connectTimeout + self.readTimeout) * 4 }

        /// How long a claimed lookup is kept from other processes: the lookup, and time to record what came of it.
        /// Longer than `attemptLimit`, so that no lookup in flight is taken again (and counted again against its
        /// source's share).
        var lease: Duration { self.attemptLimit + .seconds(30) }
    }

    public init(
        store: Store, planner: EventPlanner, signal: WorkSignal, deliverySignal: WorkSignal, metrics: ProvHookMetrics,
        configuration: Configuration = Configuration(), directories: DirectoryCache, logger: Logger
    ) {
        self.store = store
        self.signal = signal
        self.metrics = metrics
        self.intake = Intake(store: store, planner: planner, metrics: metrics, deliverySignal: deliverySignal)
        self.directories = directories
        self.configuration = configuration
        self.logger = logger
    }

    /// The actor of the journal rows the worker writes itself.
    var actor: String { JournalActor.lookup(host: ProcessInfo.processInfo.hostName).rawValue }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await self.loop()
        } onGracefulShutdown: {
            self.signal.stop()
        }
        await self.directories.shutdown()
        self.logger.info("lookup worker stopped")
    }

    /// Claims lookups while there is room, and makes each in a task of its own. At shutdown, the lookups in flight
    /// end (each within `attemptLimit`) before the worker returns.
    private func loop() async {
        let inFlight = InFlight()
        await withDiscardingTaskGroup { group in
            while !self.signal.isStopped && !Task.isCancelled {
                let room = self.configuration.concurrency - inFlight.count
                if room > 0 {
                    let claimed: [PendingLookup]
                    do {
                        claimed = try await self.store.claimLookups(
                            limit: room, perSource: self.configuration.perSource, lease: self.configuration.lease)
                        let backlog = try await self.store.lookupBacklog()
                        self.metrics.lookupsWaiting(
                            count: backlog.count,
                            oldestAgeSeconds: backlog.oldest.map { -$0.timeIntervalSinceNow } ?? 0)
                    } catch {
                        self.logger.error("cannot claim lookups", metadata: ["error": "\(error)"])
                        await self.signal.wait(upTo: .seconds(2))
                        continue
                    }
                    for lookup in claimed {
                        inFlight.add(1)
                        group.addTask {
                            await self.resolve(lookup)
                            inFlight.add(-1)
                            // A slot is free, and the source may have more lookups waiting.
                            self.signal.wake()
                        }
                    }
                    // Every slot taken: the next turn finds no room and waits for one to free.
                    if claimed.count == room { continue }
                }
                await self.signal.wait(upTo: self.configuration.pollInterval)
            }
        }
    }

    /// Looks `lookup` up and records what came of it. Errors writing the outcome leave the lease to expire, so the
    /// lookup is taken again.
    func resolve(_ lookup: PendingLookup) async {
        let started = ContinuousClock.now
        var logger = self.logger
        logger[metadataKey: "source"] = "\(lookup.source)"
        logger[metadataKey: "device_id"] = "\(lookup.deviceID.prefix(64))"
        do {
            let device: DirectoryDevice
            do {
                guard
                    let directory = try await self.directories.directory(
                        for: lookup.source, store: self.store, self.configuration)
                else {
                    self.metrics.lookup(source: lookup.source, outcome: "no_api", latency: .zero)
                    try await self.store.rejectLookup(
                        lookup,
                        EventRejection(
                            code: .lookupUnavailable,
                            message:
                                "source \(lookup.source) has no PBX API any more to look device \(lookup.deviceID.prefix(64)) up in"
                        ))
                    return
                }
                device = try await self.lookUp(lookup, in: directory)
            } catch let error as DirectoryError {
                let latency = ContinuousClock.now - started
                if error.isTransient {
                    let delay = self.configuration.delay(afterAttempt: lookup.attempts)
                    let gaveUp = try await self.store.retryLookup(
                        lookup, after: delay, giveUpAfter: self.configuration.giveUpAfter, code: error.code.rawValue,
                        message: error.description, actor: self.actor)
                    self.metrics.lookup(
                        source: lookup.source, outcome: gaveUp ? "gave_up" : error.code.rawValue, latency: latency)
                    if gaveUp {
                        logger.error(
                            "lookup failed past the give-up age; the event is dropped",
                            metadata: [
                                "error": "\(error)", "attempt": "\(lookup.attempts)",
                                "give_up_after": "\(self.configuration.giveUpAfter)",
                            ])
                    } else {
                        logger.warning(
                            "lookup failed; trying again later",
                            metadata: ["error": "\(error)", "attempt": "\(lookup.attempts)", "retry_in": "\(delay)"])
                    }
                } else {
                    self.metrics.lookup(source: lookup.source, outcome: "not_found", latency: latency)
                    logger.notice("the PBX has no such device; the event is rejected", metadata: ["error": "\(error)"])
                    try await self.store.rejectLookup(
                        lookup, EventRejection(code: error.code, message: error.description))
                }
                return
            }
            guard let mac = device.mac else {
                self.metrics.lookup(source: lookup.source, outcome: "no_mac", latency: ContinuousClock.now - started)
                try await self.store.rejectLookup(
                    lookup,
                    EventRejection(
                        code: .missingMAC,
                        message:
                            "the PBX has no MAC for device \(lookup.deviceID.prefix(64)), so there is no phone to provision"
                    ))
                return
            }
            self.metrics.lookup(source: lookup.source, outcome: "found", latency: ContinuousClock.now - started)
            let event = lookup.event(mac: mac, model: device.model, brand: device.brand, serial: device.serial)
            let outcome = try await self.intake.record(
                .event(event, eventID: lookup.eventID), tenantID: lookup.tenantID, payload: Self.payload(lookup, event),
                actor: lookup.actor, source: lookup.source)
            // A rejected event's id is forgotten, so that a fixed one may be sent again: so are those merged into it.
            let accepted = if case .refused? = outcome { false } else { true }
            try await self.store.completeLookup(lookup, keepingMerged: accepted)
        } catch {
            logger.error("cannot record a lookup's outcome; it is taken again later", metadata: ["error": "\(error)"])
        }
    }

    /// Asks `directory` for the lookup's device, within `attemptLimit` whatever the client does.
    private func lookUp(
        _ lookup: PendingLookup, in directory: any DeviceDirectory
    ) async throws(DirectoryError) -> DirectoryDevice {
        let (id, account, limit) = (lookup.deviceID, lookup.accountID, self.configuration.attemptLimit)
        do {
            return try await withDeadline(limit, "lookup of device \(id.prefix(64))") {
                try await directory.device(id: id, account: account)
            }
        } catch let error as DirectoryError {
            throw error
        } catch is DeadlineExceeded {
            throw .unavailable("the PBX did not complete the lookup within \(limit)")
        } catch {
            throw .unavailable("the lookup ended: \(String(describing: error).prefix(200))")
        }
    }

    /// What is kept as the event's payload: the event as provhook read it, and where the MAC came from.
    static func payload(_ lookup: PendingLookup, _ event: DeviceEvent) -> [UInt8] {
        var fields: [String: String] = [
            "type": event.type.rawValue, "device_id": lookup.deviceID, "mac_from": "source \(lookup.source) API",
        ]
        if let mac = event.primaryMAC { fields["mac"] = mac.canonical }
        if let account = lookup.accountID { fields["account_id"] = account }
        let json = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Array(json)
    }
}

/// How many lookups this process has in flight.
private final class InFlight: Sendable {
    private let value = Mutex(0)

    var count: Int { self.value.withLock { $0 } }

    func add(_ delta: Int) { self.value.withLock { $0 += delta } }
}
