import Deadlines
import PostgresNIO

/// A database failure, described for an operator: what was attempted and what the server said.
/// It never holds the database password.
public struct DatabaseError: Error, Sendable, CustomStringConvertible {
    /// What was being done, for example "connecting to postgres://provhook:***@db:5432/provhook".
    public var context: String
    /// The reason: the server's message, or the connection failure.
    public var reason: String
    /// The SQLSTATE, when the server answered with one.
    public var sqlState: String?
    /// The constraint that was violated, when one was.
    public var constraint: String?

    public init(context: String, reason: String, sqlState: String? = nil, constraint: String? = nil) {
        self.context = context
        self.reason = reason
        self.sqlState = sqlState
        self.constraint = constraint
    }

    /// Describes any error thrown by PostgresNIO, with the server's message and detail when there are some. A failed
    /// transaction is described by the error that failed it.
    public init(_ context: String, _ error: any Error) {
        if let error = error as? DatabaseError {
            self = error
            return
        }
        if let cause = (error as? PostgresTransactionError)?.closureError {
            self = DatabaseError(context, cause)
            return
        }
        self.context = context
        if let error = error as? PSQLError {
            if let server = error.serverInfo {
                self.sqlState = server[.sqlState]
                self.constraint = server[.constraintName]
                var text = server[.message] ?? "server error"
                // The detail of a constraint violation (class 23) shows the whole row ("Failing row contains …"),
                // which may hold a secret: it never reaches a message.
                if let detail = server[.detail], self.sqlState?.hasPrefix("23") != true { text += " (\(detail))" }
                if let hint = server[.hint] { text += "; hint: \(hint)" }
                self.reason = text
            } else if let underlying = error.underlying {
                self.reason = String(describing: underlying)
            } else {
                self.reason = "\(error.code)"
            }
        } else if let deadline = error as? DeadlineExceeded {
            self.reason = deadline.description
        } else {
            self.reason = String(describing: error)
        }
    }

    public var description: String { "\(self.context): \(self.reason)" }
}
