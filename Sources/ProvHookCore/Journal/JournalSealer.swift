import Deadlines
import Logging
import ServiceLifecycle

/// Seals the journal every few seconds while `serve` runs.
public struct JournalSealer: NamedService {
    let chain: JournalChain
    let interval: Duration
    let logger: Logger

    public init(chain: JournalChain, interval: Duration = .seconds(2), logger: Logger) {
        self.chain = chain
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        let chain = self.chain
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                // A shutdown does not wait for a round stuck on the database; the last pass below seals.
                _ = try await cancelWhenGracefulShutdown { try await chain.seal() }
            } catch is CancellationError {
                break
            } catch {
                self.logger.warning("cannot seal the journal; will retry", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
        // A last pass, so that a clean stop leaves everything sealed; bounded, so that it never holds the stop.
        _ = try? await withDeadline(.seconds(5), "the last journal seal") { try await chain.seal() }
    }
}
