// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "provhook",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "provhook", targets: ["provhook"]),
        .executable(name: "fake-redirect", targets: ["fake-redirect"]),
        .library(name: "XMLRPC", targets: ["XMLRPC"]),
        .library(name: "SnomRedirect", targets: ["SnomRedirect"]),
        .library(name: "FakeRedirectService", targets: ["FakeRedirectService"]),
        .library(name: "WebhookSignature", targets: ["WebhookSignature"]),
        .library(name: "ProvHook", targets: ["ProvHook"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        /// Deadlines that hold even when the awaited work ignores cancellation.
        .target(name: "Deadlines"),
        /// XML-RPC value model, encoder and strict decoder.
        .target(name: "XMLRPC"),
        /// MAC addresses and the client for the Snom redirection service.
        .target(
            name: "SnomRedirect",
            dependencies: [
                "Deadlines",
                "XMLRPC",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        /// A strict stand-in of the Snom redirection service, over HTTP or HTTPS.
        .target(
            name: "FakeRedirectService",
            dependencies: [
                "Deadlines",
                "XMLRPC",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        /// Standard Webhooks signatures and `whsec_` secrets; only swift-crypto, so that `fuzz/` can build it alone.
        .target(name: "WebhookSignature", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        /// Writes `sql/*.sql` into a Swift source file; used by the EmbedSQL plugin.
        .executableTarget(name: "embed-sql"),
        /// Embeds `sql/` into the ProvHook module, so the binary carries its own migrations.
        .plugin(name: "EmbedSQL", capability: .buildTool(), dependencies: ["embed-sql"]),
        /// Configuration, PostgreSQL store, journal, webhook listener and delivery worker.
        .target(
            name: "ProvHook",
            dependencies: [
                "Deadlines",
                "SnomRedirect",
                "WebhookSignature",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            plugins: ["EmbedSQL"]
        ),
        /// The `provhook` command line.
        .executableTarget(
            name: "provhook",
            dependencies: [
                "ProvHook",
                "SnomRedirect",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        /// Runs the stand-in service on its own, for local runs and manual checks.
        .executableTarget(
            name: "fake-redirect",
            dependencies: [
                "FakeRedirectService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        /// What the benchmark and fault tools share: signed webhook requests, RSS sampling, JSON output.
        .target(
            name: "BenchSupport",
            dependencies: [
                "ProvHook",
                "WebhookSignature",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        /// The measuring half of `contrib/bench.sh`: HTTP load, queue drain, memory, and the report.
        .executableTarget(
            name: "provhook-bench",
            dependencies: [
                "BenchSupport",
                "ProvHook",
                "SnomRedirect",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        /// The client and checker of `contrib/faults.sh`: PBX-like webhook bursts, and the lost-nothing check.
        .executableTarget(
            name: "provhook-faults",
            dependencies: [
                "BenchSupport",
                "FakeRedirectService",
                "ProvHook",
                "SnomRedirect",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "XMLRPCTests", dependencies: ["XMLRPC"]),
        .testTarget(
            name: "SnomRedirectTests",
            dependencies: [
                "SnomRedirect", "FakeRedirectService",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(
            name: "ProvHookTests",
            dependencies: [
                "ProvHook", "SnomRedirect", "FakeRedirectService", "WebhookSignature", "Deadlines",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
    ]
)
