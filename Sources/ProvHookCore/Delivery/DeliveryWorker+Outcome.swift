import Foundation
import Logging
import PostgresNIO
import ProvisioningModel

/// What a call's answer makes of each device it carried: the status, the retry and the journal row.
extension DeliveryWorker {
    /// Maps a call's result to one device's new status, retry time and journal row.
    func outcome(
        for device: ClaimedDevice, call: DeliveryCall, result: Result<[String: RedirectOutcome], RedirectError>,
        callID: String, latencyMS: Double
    ) -> DeliveryOutcome {
        var outcome = DeliveryOutcome(
            device: device, status: .pending, error: nil, retryAfter: .zero,
            journal: .call(
                call, for: device, callID: callID, latencyMS: latencyMS, account: self.account,
                worker: self.configuration.instance))

        switch result {
        case .success(let answers) where device.moveTo != nil:
            // A move's first step: once the old account no longer holds the MAC (it deregistered it, never had it, or
            // someone else has it), the device registers with the new account.
            let answer = answers[device.mac.canonical] ?? .ok
            outcome.journal.detail["answer"] = .string(answer.description)
            switch answer {
            case .ok, .error(.noSuchMAC), .error(.ownedByOtherUser):
                outcome.moved = true
                outcome.status = .pending
                outcome.journal.detail["moved"] = true
            case .error(let code):
                outcome.journal.set(.error)
                outcome.error = code.answer
                outcome.status = .failed
            }
        case .success(let answers):
            let answer = answers[device.mac.canonical] ?? .ok
            outcome.journal.detail["answer"] = .string(answer.description)
            switch answer {
            case .ok:
                outcome.status = device.desired == .registered ? .registered : .deregistered
            case .error(let code):
                outcome.journal.set(.error)
                outcome.error = code.answer
                switch code {
                case .ownedByOtherUser:
                    outcome.status = .conflict
                case .serialRequired where device.desired == .registered:
                    // Never sent again until its serial arrives (the database makes it due then).
                    outcome.status = .waitingForSerial
                case .codeRequired where device.desired == .registered:
                    // Never sent again until its code arrives (the database makes it due then).
                    outcome.status = .waitingForCode
                case .noSuchMAC where device.desired == .deregistered:
                    // The service no longer knows the MAC: the removal is done, and no error is left to show. The
                    // journal keeps the answer.
                    outcome.status = .deregistered
                    outcome.journal.set(.ok)
                    outcome.error = nil
                default:
                    outcome.status = .failed
                }
            }
        case .failure(let error):
            outcome.journal.detail["error"] = .string(error.kind)
            outcome.journal.detail["message"] = .string(error.description)
            outcome.error = error.description
            if case .invalidRequest = error {
                outcome.status = .failed
                outcome.journal.set(.failed)
                break
            }
            var minimum = Duration.zero
            if case .rateLimited(let seconds?) = error { minimum = .seconds(seconds) }
            let delay = self.configuration.retry.delay(afterAttempt: device.attempt, minimum: minimum)
            if self.configuration.retry.shouldGiveUp(pendingSince: device.pendingSince, delay: delay) {
                outcome.status = .failed
                outcome.error = "gave up after \(device.attempt) attempts: \(error.description)"
                outcome.journal.set(.gaveUp)
            } else {
                outcome.status = .pending
                outcome.retryAfter = delay
                outcome.journal.set(error.kind == "auth" ? .authFailed : .retry)
                outcome.journal.detail["retry_in_ms"] = .number(
                    Double(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000))
            }
        }
        if self.configuration.isDryRun {
            outcome.journal.detail["dry_run"] = true
            outcome.journal.set(.dryRun)
        }
        return outcome
    }

    /// The `outcome` label of a call's metric: ok, partial, error, auth, transient or failed.
    static func metricOutcome(_ result: Result<[String: RedirectOutcome], RedirectError>) -> String {
        switch result {
        case .success(let answers):
            let failures = answers.values.filter { $0 != .ok }.count
            return failures == 0 ? "ok" : (failures == answers.count ? "error" : "partial")
        case .failure(.authenticationFailed): return "auth"
        case .failure(let error): return error.isTransient ? "transient" : "failed"
        }
    }
}
