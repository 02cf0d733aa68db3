import PostgresNIO

/// Why a store operation was refused.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// The input is not acceptable, for example a malformed URL template.
    case invalid(String)
    /// The thing named does not exist.
    case notFound(String)
    /// The change contradicts the stored state, for example a duplicate tenant id.
    case conflict(String)
    /// The database failed or refused.
    case database(DatabaseError)
    /// A webhook secret cannot be sealed or opened: no key was given, or the key does not open it.
    case secretKey(String)

    public var description: String {
        switch self {
        case .invalid(let message), .notFound(let message), .conflict(let message), .secretKey(let message): message
        case .database(let error): error.description
        }
    }

    /// Wraps a database error, translating constraint violations into messages an operator can act on.
    static func from(_ context: String, _ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        if let transaction = error as? PostgresTransactionError {
            // The body's own error is what matters; BEGIN, COMMIT or ROLLBACK failures come after it.
            if let closureError = transaction.closureError { return Self.from(context, closureError) }
            if let failure = transaction.beginError ?? transaction.commitError ?? transaction.rollbackError {
                return Self.from(context, failure)
            }
        }
        let database = DatabaseError(context, error)
        // Class 22 (data exception: a NUL byte, a number out of range, …) is the input's fault, never an outage.
        if database.constraint == nil, database.sqlState?.hasPrefix("22") == true {
            return .invalid("the value cannot be stored (SQLSTATE \(database.sqlState ?? "22"))")
        }
        guard let constraint = database.constraint else { return .database(database) }
        let explanation: String? =
            switch constraint {
            case "device_mac_format", "journal_mac_format": "a MAC must be 12 uppercase hex digits"
            case "tenant_url_template_scheme", "device_url_scheme": "a URL must be absolute http, https, ftp or tftp"
            case "device_status": "status must be pending, registered, deregistered, failed, conflict or skipped"
            case "device_desired_state": "desired state must be registered or deregistered"
            case "tenant_id_format": "a tenant id must be 1 to 63 letters, digits, '_', '.' or '-'"
            case "tenant_name_length": "a tenant name must be 1 to 200 characters"
            case "tenant_webhook_secret_format": "a webhook secret must be whsec_ followed by base64"
            case "device_id_unique_per_tenant": "device_id is already used by another device of this tenant"
            case "tenants_pkey": "a tenant with this id already exists"
            default: nil
            }
        guard let explanation else {
            // Any other constraint refused the input, not the database's health: the caller's fault.
            guard database.sqlState?.hasPrefix("23") == true else { return .database(database) }
            return .invalid("the value was refused (constraint \(constraint))")
        }
        return database.sqlState == "23505"
            ? .conflict("\(explanation) (constraint \(constraint))")
            : .invalid("\(explanation) (constraint \(constraint) refused the value)")
    }
}
