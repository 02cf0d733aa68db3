import Foundation

/// The OpenAPI 3.1 description of provhook's HTTP interface, served at `/openapi.yaml` on the admin listener when
/// the admin API is on. The text is `Admin/openapi.yaml`, embedded at build time by the EmbedOpenAPI plugin. The
/// webhook route names its own server: the webhook listener.
/// A test checks it against the routes the routers serve and validates it as OpenAPI.
enum OpenAPIDocument {
    /// The document with the webhook listener's URL as its webhook paths' server (when known; else the default
    /// listener's).
    static func yaml(webhookListener url: String?) -> String {
        guard let url else { return Self.yaml }
        return Self.yaml.replacingOccurrences(
            of: Self.defaultWebhookListener, with: "webhookListener: {default: \(url.debugDescription)}")
    }

    /// The webhook paths' server in the document as written: the default `PROVHOOK_LISTEN`.
    static let defaultWebhookListener = #"webhookListener: {default: "http://127.0.0.1:8080"}"#

    /// `Admin/openapi.yaml` as it was when this binary was built.
    static let yaml = EmbeddedOpenAPI.files[0].text
}
