// swift-tools-version:6.0
import PackageDescription

/// Every target is built in Swift 6 mode with these upcoming features: `MemberImportVisibility` makes a file import
/// every module whose members it uses (so a target cannot lean on a dependency it does not declare), and
/// `ExistentialAny` spells every existential `any`. Hummingbird's own manifest enables both.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("ExistentialAny"),
]

/// The package that provides each product used here.
let packageOfProduct: [String: String] = [
    "ArgumentParser": "swift-argument-parser", "AsyncHTTPClient": "async-http-client", "Crypto": "swift-crypto",
    "CSV": "CSV.swift",
    "HTTPTypes": "swift-http-types", "Hummingbird": "hummingbird", "HummingbirdCore": "hummingbird",
    "HummingbirdTLS": "hummingbird", "Logging": "swift-log", "Metrics": "swift-metrics", "NIOCore": "swift-nio",
    "NIOHTTP1": "swift-nio", "NIOHTTPTypes": "swift-nio-extras", "NIOPosix": "swift-nio", "NIOSSL": "swift-nio-ssl",
    "PostgresNIO": "postgres-nio",
    "Prometheus": "swift-prometheus", "ServiceLifecycle": "swift-service-lifecycle", "SwiftASN1": "swift-asn1",
    "UnixSignals": "swift-service-lifecycle", "X509": "swift-certificates",
]

/// A product of another package, by its name.
func product(_ name: String) -> Target.Dependency {
    .product(name: name, package: packageOfProduct[name]!)
}

let package = Package(
    name: "provhook",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "provhook", targets: ["provhook"]),
        .executable(name: "fake-redirect", targets: ["fake-redirect"]),
        .executable(name: "fake-pbx", targets: ["fake-pbx"]),
        .library(name: "XMLRPC", targets: ["XMLRPC"]),
        .library(name: "SnomRedirect", targets: ["SnomRedirect"]),
        .library(name: "FakeRedirectService", targets: ["FakeRedirectService"]),
        .library(name: "WebhookSignature", targets: ["WebhookSignature"]),
        .library(name: "ProvHookCore", targets: ["ProvHookCore"]),
        .library(name: "Integrations", targets: ["Integrations"]),
        .library(name: "FakePBXService", targets: ["FakePBXService"]),
        .library(name: "ProvHookServer", targets: ["ProvHookServer"]),
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
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/yaslab/CSV.swift.git", from: "2.5.2"),
    ],
    targets: [
        // MARK: Building blocks, each usable alone

        /// Deadlines that hold even when the awaited work ignores cancellation.
        .target(name: "Deadlines", swiftSettings: swiftSettings),
        /// XML-RPC value model, encoder and strict decoder.
        .target(name: "XMLRPC", swiftSettings: swiftSettings),
        /// MAC addresses and the client for the Snom redirection service.
        .target(
            name: "SnomRedirect",
            dependencies: [
                "Deadlines", "XMLRPC", product("AsyncHTTPClient"), product("NIOCore"), product("Logging"),
                product("NIOHTTP1"), product("NIOSSL"),
            ],
            swiftSettings: swiftSettings
        ),
        /// A strict stand-in of the Snom redirection service, over HTTP or HTTPS.
        .target(
            name: "FakeRedirectService",
            dependencies: [
                "Deadlines", "XMLRPC", product("Hummingbird"), product("Crypto"), product("NIOCore"),
                product("Logging"), product("HummingbirdCore"), product("HummingbirdTLS"), product("NIOSSL"),
                product("X509"), product("SwiftASN1"), product("ServiceLifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        /// Strict stand-ins of the Kazoo crossbar and Wazo auth/confd APIs, for the tests and local runs.
        .target(
            name: "FakePBXService",
            dependencies: [
                "Deadlines", product("Hummingbird"), product("HummingbirdCore"), product("HummingbirdTLS"),
                product("HTTPTypes"), product("Logging"), product("NIOCore"), product("NIOSSL"),
                product("ServiceLifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        /// Standard Webhooks signatures and `whsec_` secrets; only swift-crypto, so that `fuzz/` can build it alone.
        .target(name: "WebhookSignature", dependencies: [product("Crypto")], swiftSettings: swiftSettings),
        /// Writes `sql/*.sql` into a Swift source file; used by the EmbedSQL plugin.
        .executableTarget(name: "embed-sql", swiftSettings: swiftSettings),
        /// Embeds `sql/` into ProvHookCore, so the binary carries its own migrations.
        .plugin(name: "EmbedSQL", capability: .buildTool(), dependencies: ["embed-sql"]),

        // MARK: provhook

        /// What provhook knows and does, without an HTTP server: the model, the event planner, the PostgreSQL store
        /// and its migrations, the journal, the delivery worker and reconcile.
        .target(
            name: "ProvHookCore",
            dependencies: [
                "Deadlines", "SnomRedirect", "WebhookSignature", product("PostgresNIO"),
                product("ServiceLifecycle"), product("Logging"), product("Metrics"), product("Prometheus"),
                product("Crypto"), product("NIOCore"), product("NIOPosix"), product("CSV"),
            ],
            swiftSettings: swiftSettings,
            plugins: ["EmbedSQL"]
        ),
        /// The PBX platforms, a folder each (`Native/`, `Kazoo/`, `Wazo/`, `FusionPBX/`, `Mapping/`): how a platform's
        /// requests are read and authenticated, how it must be answered, its API client for lookups and its listing
        /// for sync. `Platform.swift` says what a platform provides and registers them all.
        .target(
            name: "Integrations",
            dependencies: [
                "Deadlines", "ProvHookCore", "SnomRedirect", "WebhookSignature", product("AsyncHTTPClient"),
                product("Crypto"), product("HTTPTypes"), product("Logging"), product("NIOCore"), product("NIOHTTP1"),
                product("NIOSSL"), product("PostgresNIO"),
            ],
            swiftSettings: swiftSettings
        ),
        /// The HTTP side of `provhook serve`: the webhook listener, the admin API, the operations routes, and
        /// `buildApplication`, which assembles them with the worker and the journal sealer.
        .target(
            name: "ProvHookServer",
            dependencies: [
                "Deadlines", "Integrations", "ProvHookCore", "SnomRedirect", "WebhookSignature", product("Hummingbird"),
                product("HTTPTypes"), product("AsyncHTTPClient"), product("PostgresNIO"), product("ServiceLifecycle"),
                product("Logging"), product("NIOCore"), product("HummingbirdCore"), product("HummingbirdTLS"),
                product("NIOHTTPTypes"), product("NIOSSL"), product("UnixSignals"),
            ],
            swiftSettings: swiftSettings
        ),
        /// The `provhook` command line.
        .executableTarget(
            name: "provhook",
            dependencies: [
                "Integrations", "ProvHookCore", "ProvHookServer", "SnomRedirect",
                product("ArgumentParser"),
                product("AsyncHTTPClient"),
                product("Hummingbird"), product("Logging"), product("Metrics"), product("NIOCore"), product("NIOHTTP1"),
                product("PostgresNIO"), product("ServiceLifecycle"), product("UnixSignals"),
            ],
            swiftSettings: swiftSettings
        ),
        /// Runs the PBX API stand-ins on their own, for local runs.
        .executableTarget(
            name: "fake-pbx",
            dependencies: ["FakePBXService", product("ArgumentParser"), product("Logging"), product("UnixSignals")],
            swiftSettings: swiftSettings
        ),
        /// Runs the stand-in service on its own, for local runs and manual checks.
        .executableTarget(
            name: "fake-redirect",
            dependencies: [
                "FakeRedirectService", product("ArgumentParser"), product("Logging"), product("UnixSignals"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Measuring tools

        /// What the benchmark and fault tools share: signed webhook requests, RSS sampling, JSON output.
        .target(
            name: "BenchSupport",
            dependencies: ["WebhookSignature", product("AsyncHTTPClient"), product("NIOCore"), product("NIOHTTP1")],
            swiftSettings: swiftSettings
        ),
        /// The measuring half of `contrib/bench.sh`: HTTP load, queue drain, memory, and the report.
        .executableTarget(
            name: "provhook-bench",
            dependencies: [
                "BenchSupport", "Integrations", "ProvHookCore", "SnomRedirect", product("ArgumentParser"),
                product("AsyncHTTPClient"), product("PostgresNIO"), product("Logging"), product("NIOCore"),
                product("NIOHTTP1"),
            ],
            swiftSettings: swiftSettings
        ),
        /// The client and checker of `contrib/faults.sh`: PBX-like webhook bursts, and the lost-nothing check.
        .executableTarget(
            name: "provhook-faults",
            dependencies: [
                "BenchSupport", "FakeRedirectService", "ProvHookCore", "SnomRedirect", product("ArgumentParser"),
                product("AsyncHTTPClient"), product("PostgresNIO"), product("Logging"), product("NIOCore"),
                product("NIOHTTP1"), product("NIOPosix"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Tests

        /// Fixtures shared by the test targets: the scratch PostgreSQL database, the stand-in's accounts, signed
        /// webhook requests, temporary files, the in-process application and the command-line runner.
        .target(
            name: "ProvHookTestSupport",
            dependencies: [
                "Deadlines", "FakeRedirectService", "ProvHookCore", "ProvHookServer", "SnomRedirect",
                "WebhookSignature", product("AsyncHTTPClient"), product("Logging"), product("NIOCore"),
                product("NIOHTTP1"), product("PostgresNIO"), product("ServiceLifecycle"),
            ],
            path: "Tests/ProvHookTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "XMLRPCTests", dependencies: ["XMLRPC"], swiftSettings: swiftSettings),
        .testTarget(name: "WebhookSignatureTests", dependencies: ["WebhookSignature"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SnomRedirectTests",
            dependencies: [
                "SnomRedirect", "FakeRedirectService", "ProvHookTestSupport", product("AsyncHTTPClient"),
                product("Logging"), product("NIOCore"), product("NIOHTTP1"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ProvHookTests",
            dependencies: [
                "BenchSupport", "Deadlines", "FakePBXService", "FakeRedirectService", "Integrations", "ProvHookCore",
                "ProvHookServer",
                "ProvHookTestSupport", "SnomRedirect", "WebhookSignature", "XMLRPC", product("AsyncHTTPClient"),
                product("Hummingbird"), product("Logging"), product("NIOCore"), product("NIOHTTP1"),
                product("PostgresNIO"), product("ServiceLifecycle"), product("NIOSSL"), product("HTTPTypes"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
