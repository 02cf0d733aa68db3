import Foundation
import Logging
import SnomRedirect

extension Reconciler {
    /// Reconciles every redirection account with its own credentials (only `tenantID`'s account when one is given):
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
            guard let account = try await store.tenant(tenantID)?.account else {
                throw StoreError.notFound("no tenant \(tenantID.debugDescription)")
            }
            accounts = accounts.filter { $0.name == account }
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

extension Delivery {
    /// Applies the due work of every redirection account here, each with its own service and all at once, until
    /// nothing is due or `limit` passes; returns the calls made. `reconcile --apply` uses it, so that its fixes are
    /// applied even when no `serve` runs.
    public static func drainPerAccount(
        store: Store, makeService: AccountServiceFactory, configuration: DeliveryConfiguration, limit: Duration,
        logger: Logger
    ) async throws -> Int {
        let accounts = try await store.accountCredentials()
        var made: [(AccountCredentials, AccountService)] = []
        for account in accounts {
            do {
                made.append((account, try makeService(account)))
            } catch {
                logger.error(
                    "cannot make the redirection client of an account; its work waits",
                    metadata: ["account": "\(account.name)", "error": "\(error)"])
            }
        }
        return await withTaskGroup(of: Int.self) { group in
            for (account, service) in made {
                var configuration = configuration
                if let concurrency = account.concurrency { configuration.concurrency = concurrency }
                group.addTask {
                    let delivery = Delivery(
                        store: store, account: account.name, redirect: service.service, configuration: configuration,
                        metrics: ProvHookMetrics(), listenURL: nil, logger: logger)
                    let calls = await delivery.worker.drain(limit: limit)
                    await service.close?()
                    return calls
                }
            }
            return await group.reduce(0, +)
        }
    }
}

extension Reconciler {
    /// Which of our redirection accounts, other than `except`, holds `mac` at the service: each is asked with
    /// `checkPhone`, which answers `Ok` only to the account that holds the MAC. Nil when none of ours does (then the
    /// MAC belongs to someone else). A failed check is an error: the answer must not be guessed.
    public static func holdingAccount(
        of mac: MACAddress, except: String, accounts: [AccountCredentials], makeService: AccountServiceFactory
    ) async throws -> String? {
        for account in accounts where account.name != except {
            let made = try makeService(account)
            let answer: RedirectOutcome
            do {
                answer = try await made.service.checkPhone(mac)
            } catch {
                await made.close?()
                throw error
            }
            await made.close?()
            if case .ok = answer { return account.name }
        }
        return nil
    }
}
