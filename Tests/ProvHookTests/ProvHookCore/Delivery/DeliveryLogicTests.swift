import Foundation
import ProvHookTestSupport
import ProvisioningModel
import Synchronization
import Testing

@testable import ProvHookCore

@Suite("Delivery logic")
struct DeliveryLogicTests {
    func device(_ mac: String, _ desired: DesiredState, url: String? = nil) -> ClaimedDevice {
        ClaimedDevice(
            mac: MACAddress(mac)!, tenantID: "t", desired: desired, url: url, generation: 1, attempt: 1,
            pendingSince: Date(), claimToken: 1, claimedAt: .now)
    }

    @Test("calls are planned: removals as lists, equal URLs as lists, the rest single")
    func plan() {
        let devices = [
            self.device("000413000001", .deregistered), self.device("000413000002", .deregistered),
            self.device("000413000003", .registered, url: "https://a/"),
            self.device("000413000004", .registered, url: "https://a/"),
            self.device("000413000005", .registered, url: "https://b/"), self.device("000413000006", .deregistered),
        ]
        let calls = DeliveryCall.plan(devices, maxListSize: 2)
        #expect(calls.map(\.method) == [.deregisterPhoneList, .deregisterPhone, .registerPhoneList, .registerPhone])
        #expect(calls[2].url == "https://a/" && calls[2].devices.count == 2)
    }

    @Test(
        "the outcomes of calls answered while a write is in flight go together into the next write, and each caller gets its write's answer"
    )
    func outcomesWrittenTogether() async {
        let gate = WorkSignal()
        let writes = Mutex<[[String]]>([])
        let writer = OutcomeWriter { outcomes in
            let macs = outcomes.map(\.device.mac.canonical)
            let isFirst = writes.withLock { writes in
                writes.append(macs)
                return writes.count == 1
            }
            if isFirst { await gate.wait(upTo: .seconds(30)) }
            // One MAC is answered as superseded.
            return Set(macs.indices.filter { macs[$0] != "000413000004" })
        }
        func outcome(_ mac: String) -> DeliveryOutcome {
            DeliveryOutcome(
                device: self.device(mac, .registered, url: "https://a/"), status: .registered, error: nil,
                retryAfter: .zero,
                journal: JournalEntry(
                    tenantID: "t", mac: mac, actor: "worker:test", action: .call(.registerPhone), outcome: .ok))
        }
        let calls = [["000413000001", "000413000002"], ["000413000003"], ["000413000004"], ["000413000005"]]
        await withTaskGroup(of: (Int, Set<String>?).self) { group in
            group.addTask { (0, await writer.record(calls[0].map(outcome))) }
            // Bounded waits: a writer that never queues fails the expectations below rather than hanging.
            let limit = ContinuousClock.now + .seconds(10)
            while writes.withLock({ $0.count }) < 1 && ContinuousClock.now < limit {
                try? await Task.sleep(for: .milliseconds(1))
            }
            for index in 1..<calls.count {
                group.addTask { (index, await writer.record(calls[index].map(outcome))) }
            }
            while writer.waiting < 3 && ContinuousClock.now < limit { try? await Task.sleep(for: .milliseconds(1)) }
            gate.wake()
            var answers: [Int: Set<String>?] = [:]
            for await (index, applied) in group { answers[index] = applied }
            #expect(answers[0] == ["000413000001", "000413000002"])
            // Each caller is answered for its own MACs only.
            #expect(answers[1] == ["000413000003"] && answers[2] == [] && answers[3] == ["000413000005"])
        }
        let done = writes.withLock { $0 }
        #expect(done.count == 2, "one write for the first call, one for the three answered meanwhile: \(done)")
        #expect(done.first == calls[0] && Set(done.last ?? []) == Set(calls[1...].flatMap { $0 }))
    }

    @Test("backoff doubles within ±20 % up to the maximum, and gives up after the give-up age")
    func backoff() {
        let policy = RetryPolicy(base: .seconds(1), maximum: .seconds(60), giveUpAfter: .seconds(600))
        for attempt in 1...10 {
            let delay = RetryPolicy.seconds(policy.delay(afterAttempt: attempt))
            let nominal = min(pow(2, Double(attempt)), 60)
            #expect(delay >= nominal * 0.8 - 0.001 && delay <= nominal * 1.2 + 0.001, "attempt \(attempt): \(delay)")
        }
        #expect(RetryPolicy.seconds(policy.delay(afterAttempt: 1, minimum: .seconds(30))) >= 30)
        // A server asking for more than the maximum (a huge Retry-After) gets the maximum: no overflow, no give-up.
        let huge = RetryPolicy.seconds(policy.delay(afterAttempt: 1, minimum: .seconds(Int64.max / 2)))
        #expect(huge >= 60 && huge <= 60 * 1.2 + 0.001, "\(huge)")
        #expect(!policy.shouldGiveUp(pendingSince: Date() - 100, delay: .seconds(60)))
        #expect(policy.shouldGiveUp(pendingSince: Date() - 590, delay: .seconds(60)))
    }

    @Test("a wake before the wait is not lost; a wait without a wake times out")
    func signal() async {
        let signal = WorkSignal()
        signal.wake()
        let started = ContinuousClock.now
        await signal.wait(upTo: .seconds(10))
        #expect(ContinuousClock.now - started < .seconds(5))
        let idle = ContinuousClock.now
        await signal.wait(upTo: .milliseconds(50))
        #expect(ContinuousClock.now - idle >= .milliseconds(50), "no wake: the wait lasts its whole limit")
        signal.stop()
        let stopped = ContinuousClock.now
        await signal.wait(upTo: .seconds(10))
        #expect(ContinuousClock.now - stopped < .seconds(5), "a stopped signal never makes a loop wait")
    }

    @Test(
        "a wait ends at a limit that passes before it begins, at its task's cancellation, and only its own limit ends it",
        .timeLimit(.minutes(1)))
    func signalLimits() async {
        let signal = WorkSignal()
        for _ in 0..<100 { await signal.wait(upTo: .zero) }
        let waiting = Task { await signal.wait(upTo: .seconds(3600)) }
        try? await Task.sleep(for: .milliseconds(20))
        waiting.cancel()
        await waiting.value
        // Many short waits, then a long one: no earlier wait's limit ends it.
        for _ in 0..<20 { await signal.wait(upTo: .milliseconds(1)) }
        let started = ContinuousClock.now
        await signal.wait(upTo: .milliseconds(200))
        #expect(ContinuousClock.now - started >= .milliseconds(200))
        let woken = Task { await signal.wait(upTo: .seconds(3600)) }
        try? await Task.sleep(for: .milliseconds(20))
        signal.wake()
        await woken.value
    }
}

@Suite("Leases outlast calls")
struct LeaseTests {
    @Test("the lease is derived from the call's deadline, so that no claim can pass on while its call runs")
    func derived() {
        let slow = DeliveryConfiguration(lease: .seconds(120), callDeadline: .seconds(310), instance: "t")
        #expect(slow.lease >= .seconds(310) + DeliveryConfiguration.leaseMargin)
        let quick = DeliveryConfiguration(lease: .seconds(120), callDeadline: .seconds(40), instance: "t")
        #expect(quick.lease == .seconds(120), "a longer lease asked for is kept")
    }

    @Test("a claim that waited too long for a slot is not sent")
    func maySend() {
        let configuration = DeliveryConfiguration(lease: .seconds(120), callDeadline: .seconds(40), instance: "t")
        let claimed = ContinuousClock.now
        #expect(configuration.maySend(claimedAt: claimed, now: claimed + .seconds(10)))
        #expect(!configuration.maySend(claimedAt: claimed, now: claimed + .seconds(80)), "80 + 40 s reach the lease")
    }
}
