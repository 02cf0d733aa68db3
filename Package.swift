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

/// A phone vendor's provisioning service, a folder `Sources/Vendors/<name>/`: the module `<name>`, its client
/// (`Client/`), and `<name>StandIn`, its strict stand-in (`StandIn/`); and their tests in `Tests/<name>Tests`. Each
/// gets what every vendor's does (the model, the shared HTTP client, logging; the stand-ins' support) besides its own
/// dependencies, and the tests get the client and the stand-in.
func vendor(
    _ name: String, client: [Target.Dependency], standIn: [Target.Dependency], tests: [Target.Dependency]
) -> [Target] {
    let client: [Target.Dependency] =
        ["ProvisioningModel", "VendorHTTP", product("AsyncHTTPClient"), product("Logging")] + client
    let standIn: [Target.Dependency] = ["StandInSupport", product("Logging")] + standIn
    let tests: [Target.Dependency] =
        [
            "ProvisioningModel", "StandInSupport", "VendorTestSupport", product("AsyncHTTPClient"), product("Logging"),
            product("NIOCore"), product("NIOHTTP1"),
        ] + tests
    return [
        .target(
            name: name, dependencies: client, path: "Sources/Vendors/\(name)/Client", swiftSettings: swiftSettings),
        .target(
            name: name + "StandIn", dependencies: standIn, path: "Sources/Vendors/\(name)/StandIn",
            swiftSettings: swiftSettings),
        .testTarget(
            name: name + "Tests", dependencies: [.target(name: name), .target(name: name + "StandIn")] + tests,
            swiftSettings: swiftSettings),
    ]
}

/// The command that runs a vendor's stand-in (`standIn`) on its own: `Sources/<name>/`.
func standInCommand(_ name: String, _ standIn: String) -> Target {
    .executableTarget(
        name: name, dependencies: [.target(name: standIn), "StandInCommand", product("ArgumentParser")],
        swiftSettings: swiftSettings)
}

/// The phone vendors' provisioning services, one folder each under Sources/Vendors.
let vendorTargets: [Target] = [
    // The client of Snom's XML-RPC redirection service: its seven methods, answers, errors and settings.
    // The stand-in: a strict stand-in of Snom's XML-RPC redirection service, over HTTP or HTTPS, for the tests and
    // local runs.
    vendor(
        "SnomXMLRPC", client: ["Deadlines", "XMLRPC", product("NIOCore"), product("NIOHTTP1")],
        standIn: ["XMLRPC", product("Hummingbird"), product("HummingbirdCore"), product("NIOCore")],
        tests: ["ProvHookTestSupport", "VendorHTTP", "XMLRPC"]),
    // The client of Snom SRAPS, Snom's REST provisioning service signed with Hawk: an account's company, endpoints and
    // URL setting found through its links, and each endpoint registered, read, listed and deleted.
    // The stand-in: a strict stand-in of Snom SRAPS: Hawk checked as the reference server does, paginated settings and
    // endpoints, MACs another company holds; for the tests and local runs.
    vendor(
        "SnomSRAPS", client: ["Deadlines", "Hawk", product("NIOCore"), product("NIOHTTP1")],
        standIn: [
            "Hawk", product("HTTPTypes"), product("Hummingbird"), product("HummingbirdCore"), product("NIOCore"),
        ], tests: ["Hawk"]),
    // The client of Yealink's RPS over XML-RPC: a per-MAC URL registered, deregistered and checked, RPS's answers
    // read, and a MAC the account holds already registered again.
    // The stand-in: a strict stand-in of Yealink's RPS over XML-RPC: basic auth, RPS's MAC spellings, server names and
    // URL schemes, override, and its answers; for the tests and local runs.
    vendor(
        "YealinkRPS", client: ["XMLRPC"],
        standIn: ["XMLRPC", product("Hummingbird"), product("HummingbirdCore"), product("NIOCore")],
        tests: ["VendorHTTP", "XMLRPC"]),
    // The client of the RPS services that copy Yealink's XML-RPC API with named servers, Htek's and Akuvox's: a server
    // object per provisioning URL, added once and reused, MACs registered to it (in batches where the service has
    // them), re-pointed with `isOverride`, deregistered and checked; a small dialect per vendor.
    // The stand-in: a strict stand-in of Htek's or Akuvox's RPS: basic auth, the service's path, its MAC spellings,
    // server objects per account, override, the batch calls where the service has them, and its answers.
    vendor(
        "YealinkStyleRPS", client: ["XMLRPC", "YealinkRPS", product("Crypto")],
        standIn: [
            "XMLRPC", "YealinkRPSStandIn", product("Hummingbird"), product("HummingbirdCore"), product("NIOCore"),
        ], tests: ["VendorHTTP", "XMLRPC", "YealinkRPS", "YealinkRPSStandIn"]),
    // The client of Yealink's YMCS (API v2): OAuth client credentials with a cached token, `timestamp` and `nonce` on
    // every request, MAC-only batches of up to 100 with per-MAC errors, deletion, listing, device PINs.
    // The stand-in: a strict stand-in of Yealink's YMCS: OAuth tokens and their expiry, `timestamp` and `nonce`, the
    // 100-MAC batch, organisations without MAC-only registration, YMCS's error codes; for the tests and local runs.
    vendor(
        "YealinkYMCS", client: [product("NIOCore"), product("NIOHTTP1")],
        standIn: [product("HTTPTypes"), product("Hummingbird"), product("HummingbirdCore"), product("NIOCore")],
        tests: []),
    // The client of Poly's Zero Touch Provisioning (ZTP) REST API: a profile per provisioning server (found, created
    // or corrected), each MAC assigned to it, deregistered, and the devices listed by cursor.
    // The stand-in: a strict stand-in of Poly ZTP: the `API-KEY` header, JSON bodies, MACs, profiles, cursor paging and
    // the "claimed by another organization" refusal; for the tests and local runs.
    vendor(
        "PolyZTP", client: ["Deadlines", product("NIOCore"), product("NIOHTTP1")],
        standIn: [product("HTTPTypes"), product("Hummingbird"), product("HummingbirdCore"), product("NIOCore")],
        tests: []),
    // The client of Panasonic's redirection service (`ipredirect.*` over XML-RPC): a per-MAC URL registered,
    // deregistered and checked, its fault codes read as outcomes.
    // The stand-in: a strict stand-in of Panasonic's redirection service: basic auth, its MAC and URL rules, and its
    // fault codes; for the tests and local runs.
    vendor("Panasonic", client: ["XMLRPC"], standIn: ["XMLRPC"], tests: ["VendorHTTP", "XMLRPC"]),
    // The client of Fanvil's FDPS (`redirect.*` over XML-RPC): a server object per MAC holding its URL, the MAC
    // registered to it, its error texts read as outcomes; the password sent as the md5 of its md5.
    // The stand-in: a strict stand-in of Fanvil's FDPS: the hashed basic-auth password, falconieri's MAC spelling and
    // server settings, and the service's error texts; for the tests and local runs.
    vendor(
        "Fanvil", client: ["XMLRPC", product("Crypto")], standIn: ["XMLRPC", product("Crypto")],
        tests: ["VendorHTTP", "XMLRPC"]),
    // The client of Gigaset's auto-provisioning service (`autoprov.*` over XML-RPC): a MAC with the code printed on
    // the phone registered, deregistered and checked, its `[boolean, text]` answers read as outcomes.
    // The stand-in: a strict stand-in of Gigaset's auto-provisioning service: basic auth, its MAC-ID, code, URL and
    // name rules, and its answer texts; for the tests and local runs.
    vendor("Gigaset", client: ["XMLRPC"], standIn: ["XMLRPC"], tests: ["VendorHTTP", "XMLRPC"]),
].flatMap { $0 }

let package = Package(
    name: "provhook",
    platforms: [.macOS(.v14)],
    products: [
        "provhook", "fake-redirect", "fake-pbx", "fake-sraps", "fake-yealink-rps", "fake-poly-ztp",
    ].map { .executable(name: $0, targets: [$0]) }
        + [
            "XMLRPC", "ProvisioningModel", "SnomXMLRPC", "SnomXMLRPCStandIn", "SnomSRAPS", "SnomSRAPSStandIn",
            "YealinkRPS", "YealinkRPSStandIn", "YealinkStyleRPS", "YealinkStyleRPSStandIn", "YealinkYMCS",
            "YealinkYMCSStandIn", "PolyZTP", "PolyZTPStandIn", "Panasonic", "PanasonicStandIn", "Fanvil",
            "FanvilStandIn", "Gigaset", "GigasetStandIn", "StandInSupport", "WebhookSignature", "Hawk", "ProvHookCore",
            "Integrations", "FakePBXService", "ProvHookServer",
        ].map { .library(name: $0, targets: [$0]) },
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
        .target(
            name: "Deadlines", dependencies: [product("NIOCore"), product("NIOPosix")], swiftSettings: swiftSettings),
        /// XML-RPC value model, encoder and strict decoder.
        .target(name: "XMLRPC", swiftSettings: swiftSettings),
        /// What provisioning is, whichever vendor serves it: `MACAddress`, `URLTemplate`, `DesiredState`, and
        /// `ProvisioningService`, the protocol each phone vendor's service conforms to, with its outcomes and errors.
        .target(name: "ProvisioningModel", swiftSettings: swiftSettings),

        /// What every stand-in shares: running in the background on a bound port, its application, a throwaway CA.
        .target(
            name: "StandInSupport",
            dependencies: [
                "Deadlines", "XMLRPC", product("Hummingbird"), product("HummingbirdCore"), product("HummingbirdTLS"),
                product("Logging"), product("NIOCore"), product("NIOSSL"), product("ServiceLifecycle"),
                product("Crypto"), product("X509"), product("SwiftASN1"),
            ],
            swiftSettings: swiftSettings
        ),
        /// Strict stand-ins of the Kazoo crossbar and Wazo auth/confd APIs, for the tests and local runs.
        .target(
            name: "FakePBXService",
            dependencies: [
                "StandInSupport", product("Hummingbird"), product("HTTPTypes"), product("Logging"),
                product("NIOCore"), product("NIOSSL"),
            ],
            swiftSettings: swiftSettings
        ),
        /// Hawk 1 request authentication (sha256), the client's header and the server's check with its replay cache
        /// and stale-timestamp answer: what Snom SRAPS signs every call with. Only swift-crypto.
        .target(name: "Hawk", dependencies: [product("Crypto")], swiftSettings: swiftSettings),
        /// Standard Webhooks signatures and `whsec_` secrets; only swift-crypto, so that `fuzz/` can build it alone.
        .target(name: "WebhookSignature", dependencies: [product("Crypto")], swiftSettings: swiftSettings),
        /// Writes `sql/*.sql` into a Swift source file; used by the EmbedSQL plugin.
        .executableTarget(name: "embed-sql", swiftSettings: swiftSettings),
        /// Embeds `sql/` into ProvHookCore, so the binary carries its own migrations.
        .plugin(name: "EmbedSQL", capability: .buildTool(), dependencies: ["embed-sql"]),
        /// Embeds ProvHookServer's `Admin/openapi.yaml`, so the binary serves its OpenAPI document from one file.
        .plugin(name: "EmbedOpenAPI", capability: .buildTool(), dependencies: ["embed-sql"]),
        /// Embeds the commit the checkout is at, for `provhook --version` ("unknown" outside a git checkout).
        .plugin(name: "EmbedCommit", capability: .buildTool(), dependencies: ["embed-sql"]),

        // MARK: Phone vendors' provisioning services, one folder each under Sources/Vendors

        /// What every vendor's HTTP client shares: its connection pool (timeouts, TLS, redirects refused) and how a
        /// transport failure becomes a `RedirectError`.
        .target(
            name: "VendorHTTP",
            dependencies: [
                "Deadlines", "ProvisioningModel", "XMLRPC", product("AsyncHTTPClient"), product("Logging"),
                product("NIOCore"), product("NIOHTTP1"), product("NIOSSL"),
            ],
            path: "Sources/Vendors/Shared",
            swiftSettings: swiftSettings
        ),
        /// Every vendor's service provhook can call, by account kind (`ServiceRegistry.standard`): a file per vendor
        /// saying how an account of its kind, with the installation's settings, becomes its client.
        .target(
            name: "VendorRegistry",
            dependencies: [
                "ProvHookCore", "Fanvil", "Gigaset", "Panasonic", "PolyZTP", "ProvisioningModel", "SnomSRAPS",
                "SnomXMLRPC",
                "VendorHTTP",
                "YealinkRPS", "YealinkStyleRPS", "YealinkYMCS", product("Logging"),
            ],
            path: "Sources/Vendors/Registry",
            swiftSettings: swiftSettings
        ),

        // MARK: provhook

        /// What provhook knows and does, without an HTTP server: the model, the event planner, the PostgreSQL store
        /// and its migrations, the journal, the delivery worker and reconcile (which call any `ProvisioningService`
        /// from a `ServiceRegistry` the executable fills: Core knows no vendor).
        .target(
            name: "ProvHookCore",
            dependencies: [
                "Deadlines", "ProvisioningModel", "WebhookSignature",
                product("PostgresNIO"), product("ServiceLifecycle"), product("Logging"), product("Metrics"),
                product("Prometheus"), product("Crypto"), product("NIOCore"), product("NIOSSL"),
                product("CSV"),
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
                "Deadlines", "ProvHookCore", "ProvisioningModel", "WebhookSignature", product("AsyncHTTPClient"),
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
                "Deadlines", "Integrations", "ProvHookCore", "ProvisioningModel", "SnomXMLRPC", "VendorHTTP",
                "VendorRegistry",
                "WebhookSignature", product("Hummingbird"),
                product("HTTPTypes"), product("AsyncHTTPClient"), product("PostgresNIO"), product("ServiceLifecycle"),
                product("Logging"), product("NIOCore"), product("HummingbirdCore"), product("HummingbirdTLS"),
                product("NIOHTTPTypes"), product("NIOSSL"), product("UnixSignals"),
            ],
            exclude: ["Admin/openapi.yaml"],
            swiftSettings: swiftSettings,
            plugins: ["EmbedOpenAPI"]
        ),
        /// The `provhook` command line.
        .executableTarget(
            name: "provhook",
            dependencies: [
                "Integrations", "ProvHookCore", "ProvHookServer", "ProvisioningModel", "SnomXMLRPC", "VendorHTTP",
                "VendorRegistry", product("ArgumentParser"),
                product("AsyncHTTPClient"),
                product("Hummingbird"), product("Logging"), product("Metrics"), product("NIOCore"), product("NIOHTTP1"),
                product("PostgresNIO"), product("ServiceLifecycle"), product("UnixSignals"),
            ],
            swiftSettings: swiftSettings,
            plugins: ["EmbedCommit"]
        ),
        /// What every vendor stand-in's command shares: its listening and TLS options, and running until a signal.
        .target(
            name: "StandInCommand",
            dependencies: ["StandInSupport", product("ArgumentParser"), product("Logging"), product("UnixSignals")],
            swiftSettings: swiftSettings
        ),
        /// Runs the PBX API stand-ins on their own, for local runs.
        .executableTarget(
            name: "fake-pbx",
            dependencies: ["FakePBXService", product("ArgumentParser"), product("Logging"), product("UnixSignals")],
            swiftSettings: swiftSettings
        ),
        /// Runs the Snom XML-RPC stand-in on its own, for local runs and manual checks.
        .executableTarget(
            name: "fake-redirect",
            dependencies: [
                "SnomXMLRPCStandIn", "StandInCommand", "StandInSupport", product("ArgumentParser"), product("Logging"),
                product("UnixSignals"),
            ],
            swiftSettings: swiftSettings
        ),

        // The SRAPS, Yealink RPS and Poly ZTP stand-ins on their own, for local runs and manual checks.
        standInCommand("fake-sraps", "SnomSRAPSStandIn"),
        standInCommand("fake-yealink-rps", "YealinkRPSStandIn"),
        standInCommand("fake-poly-ztp", "PolyZTPStandIn"),

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
                "BenchSupport", "Integrations", "ProvHookCore", "ProvisioningModel", product("ArgumentParser"),
                product("AsyncHTTPClient"), product("PostgresNIO"), product("Logging"), product("NIOCore"),
                product("NIOHTTP1"),
            ],
            swiftSettings: swiftSettings
        ),
        /// The client and checker of `contrib/faults.sh`: PBX-like webhook bursts, and the lost-nothing check.
        .executableTarget(
            name: "provhook-faults",
            dependencies: [
                "BenchSupport", "ProvHookCore", "ProvisioningModel", "SnomXMLRPC", "SnomXMLRPCStandIn",
                "VendorRegistry", product("ArgumentParser"),
                product("AsyncHTTPClient"), product("PostgresNIO"), product("Logging"), product("NIOCore"),
                product("NIOHTTP1"), product("NIOPosix"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Tests

        /// Fixtures shared by the test targets: a fresh PostgreSQL database per test and a running store, the
        /// stand-ins' accounts, temporary and secret key files, a logger that keeps what it logs, and the rigs: the
        /// command-line runner, `serve` as a process, provhook in process, a scratch cluster, the sources' rig.
        .target(
            name: "ProvHookTestSupport",
            dependencies: [
                "BenchSupport", "Deadlines", "FakePBXService", "ProvHookCore", "ProvHookServer", "ProvisioningModel",
                "SnomXMLRPC", "SnomXMLRPCStandIn", "StandInSupport", "VendorHTTP", "WebhookSignature", "XMLRPC",
                product("AsyncHTTPClient"), product("Hummingbird"), product("Logging"), product("NIOCore"),
                product("NIOHTTP1"), product("PostgresNIO"), product("ServiceLifecycle"),
            ],
            path: "Tests/ProvHookTestSupport",
            swiftSettings: swiftSettings
        ),
        /// What the vendor clients' tests share around their stand-ins: the CA file, the client and a plain HTTP client
        /// closed whatever the test does, and raw requests.
        .target(
            name: "VendorTestSupport",
            dependencies: [
                "ProvisioningModel", "StandInSupport", "VendorHTTP", "XMLRPC", product("AsyncHTTPClient"),
                product("Logging"), product("NIOCore"), product("NIOHTTP1"),
            ],
            path: "Tests/VendorTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "XMLRPCTests", dependencies: ["XMLRPC"], swiftSettings: swiftSettings),
        .testTarget(
            name: "DeadlinesTests", dependencies: ["Deadlines", product("NIOCore")], swiftSettings: swiftSettings),
        .testTarget(name: "WebhookSignatureTests", dependencies: ["WebhookSignature"], swiftSettings: swiftSettings),
        .testTarget(name: "HawkTests", dependencies: ["Hawk"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ProvisioningModelTests", dependencies: ["ProvisioningModel"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ProvHookTests",
            dependencies: [
                "BenchSupport", "Deadlines", "Integrations", "FakePBXService", "ProvHookCore",
                "ProvHookServer", "ProvHookTestSupport", "ProvisioningModel", "SnomXMLRPC", "SnomXMLRPCStandIn",
                "StandInSupport", "VendorHTTP", "VendorRegistry", "WebhookSignature", "XMLRPC", "YealinkRPSStandIn",
                "YealinkStyleRPSStandIn", "YealinkYMCSStandIn", "PolyZTPStandIn", "PanasonicStandIn",
                "FanvilStandIn", "GigasetStandIn", product("AsyncHTTPClient"),
                product("Crypto"),
                product("Hummingbird"),
                product("Logging"), product("NIOCore"), product("NIOHTTP1"), product("PostgresNIO"),
                product("ServiceLifecycle"), product("NIOSSL"), product("HTTPTypes"),
            ],
            swiftSettings: swiftSettings
        ),
    ] + vendorTargets
)
