import ArgumentParser
import BenchSupport

/// Where signed webhooks go: the listener, the tenant and its secret.
struct WebhookTarget: ParsableArguments {
    @Option(help: "provhook's base URL, e.g. http://127.0.0.1:8080.") var url: String
    @Option(help: "The tenant.") var tenant: String
    @Option(help: "File holding the tenant's webhook secret.") var secretFile: String

    func secret() throws -> String { try SignedWebhook.secret(fromFile: self.secretFile) }
}
