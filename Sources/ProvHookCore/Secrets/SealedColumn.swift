/// A column that holds secrets sealed under `PROVHOOK_SECRET_KEY_FILE`, with the column naming the key that sealed
/// each. `all` is the one inventory of them: `serve`'s start-up check, `migrate` and `tenant reseal` count from it.
public struct SealedColumn: Sendable, Hashable, CustomStringConvertible {
    /// The table, an identifier.
    public var table: String
    /// The column of sealed bytes, an identifier.
    public var sealed: String
    /// The column naming the key that sealed a row's secret, an identifier.
    public var keyID: String
    /// The rows whose secret is sealed but not yet bound to where it is sent (from before migration 0016), as a
    /// condition on the table; nil for a secret that never leaves provhook.
    public var unbound: String?
    /// What the column holds, for an operator.
    public var description: String

    /// Every sealed column of the schema.
    public static let all: [SealedColumn] = [
        SealedColumn(
            table: "tenants", sealed: "webhook_secret_sealed", keyID: "webhook_secret_key_id", unbound: nil,
            description: "tenants' webhook secrets"),
        SealedColumn(
            table: "sources", sealed: "token_sealed", keyID: "token_key_id", unbound: nil,
            description: "sources' tokens"),
        SealedColumn(
            table: "sources", sealed: "api_secret_sealed", keyID: "api_secret_key_id",
            unbound: "api_secret_sealed IS NOT NULL AND NOT api_secret_bound", description: "sources' PBX API secrets"),
        // A default account has no password; any other holds a password, or the path of a password file, sealed.
        SealedColumn(
            table: "redirect_accounts", sealed: "password_sealed", keyID: "password_key_id",
            unbound: "name <> 'default' AND NOT destination_bound",
            description: "redirection accounts' passwords and password files"),
        SealedColumn(
            table: "device_pins", sealed: "pin_sealed", keyID: "pin_key_id", unbound: nil,
            description: "the PINs provisioning services keep for phones"),
    ]
}
