// swift-tools-version:6.0
// The libFuzzer target that needs a SwiftPM build: the webhook signature verifier depends on swift-crypto, which
// plain `swiftc` cannot import. Built and run by fuzz/run.sh; never part of the main package's build.
import PackageDescription

let package = Package(
    name: "provhook-fuzz",
    dependencies: [.package(name: "provhook", path: "..")],
    targets: [
        /// Coverage-guided fuzzing of `WebhookAuthenticator` and `WebhookSecret`.
        .executableTarget(
            name: "fuzz-signature",
            dependencies: [.product(name: "WebhookSignature", package: "provhook")]
        )
    ]
)
