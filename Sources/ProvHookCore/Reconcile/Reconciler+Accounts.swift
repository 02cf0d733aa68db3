import Foundation
import Logging
import ProvisioningModel

extension Reconciler {
    /// Reconciles every redirection account with its own credentials (only the accounts that serve `tenantID`'s
    /// devices when one is given):
    /// each account's devices are compared with that account, and the MACs each account holds with the devices that
    /// should be there. Returns the runs' figures and findings together.
    ///
    /// - Parameters:
    ///   - makeService: the service to call for an account; what it holds is closed after the account's run.
    ///   - progress: (account, checked, total), as each account's devices are checked.
    public static func runPerAccount(
        store: Store, makeService: AccountServiceFactory, concurrency: Int, models: [String] = Self.defaultModels,
        actor: String, logger: Logger, tenantID: String?, dryRun: Bool, prune: Bool,
        progress: @escaping @Sendable (String, Int, Int) -> Void = { _, _, _ in }
    ) async throws -> Summary {
        var accounts = try await store.accountCredentials()
        if let tenantID {
            guard try await store.tenant(tenantID) != nil else {
                throw StoreError.notFound("no tenant \(tenantID.debugDescription)")
            }
            let serving = try await store.accountsServing(tenantID: tenantID)
            accounts = accounts.filter { serving.contains($0.name) }
        }
        var summary = Summary()
        for account in accounts {
            // An account whose client cannot be made (its CA file unreadable, an http:// URL) is a failed check of
            // its own; the other accounts are reconciled all the same.
            let made: AccountService
            do {
                made = try makeService(account)
            } catch {
                summary.findings.append(
                    Finding(
                        kind: "check_failed", mac: "", tenantID: nil, expected: nil,
                        actual: "account \(account.name): \(error)", action: .error))
                continue
            }
            let reconciler = Reconciler(
                store: store, service: made.service, concurrency: account.concurrency ?? concurrency, models: models,
                account: account.name, actor: actor, logger: logger)
            do {
                summary.add(
                    try await reconciler.run(tenantID: tenantID, dryRun: dryRun, prune: prune) { done, total in
                        progress(account.name, done, total)
                    })
            } catch {
                await made.close?()
                throw error
            }
            await made.close?()
        }
        return summary
    }
}

extension Reconciler {
    /// Which of our redirection accounts, other than `except`, holds `mac` at the service: each is asked with
    /// `checkPhone`, which answers `Ok` only to the account that holds the MAC. Nil when none of ours does (then the
    /// MAC belongs to someone else). A failed check is an error: the answer must not be guessed. An account whose
    /// service cannot be asked (`descriptor.canCheckDevices` false, Fanvil FDPS) is passed over.
    /// - Parameter services: our accounts' services, by name, made once for all the MACs asked about.
    public static func holdingAccount(
        of mac: MACAddress, except: String?, services: [(name: String, service: any ProvisioningService)]
    ) async throws -> String? {
        for (name, service) in services where name != except && service.descriptor.canCheckDevices {
            if case .ok = try await service.ownership(of: mac) { return name }
        }
        return nil
    }
}
