import Logging

extension Logger {
    /// This logger for PostgresNIO: never below `debug`. At `trace` PostgresNIO logs every row it receives, as hex,
    /// and so the secrets in them; provhook itself logs nothing at trace.
    public var forPostgres: Logger {
        var logger = self
        if logger.logLevel < .debug { logger.logLevel = .debug }
        return logger
    }
}
