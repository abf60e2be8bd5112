// swift-tools-version: 6.1
//
// Koers — a progress monitor for the Nationaal Programma Heerlen-Noord.
// The module layout is described in docs/architecture.md.

import PackageDescription

/// The theme plugins: one folder each, `Plugins/<Name>/`, holding the target `<Name>Plugin`
/// whose primary type, also `<Name>Plugin`, conforms to `ThemePlugin` and has `init()`.
/// Adding a theme plugin is its folder and its name here; nothing else (Plugins/README.md).
let themePlugins = ["Talent", "Work", "Health", "Safety"]

let themePluginDependencies: [Target.Dependency] = themePlugins.map { .target(name: "\($0)Plugin") }

let package = Package(
    name: "Koers",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "koers", targets: ["koers"]),
        .library(name: "ZeroMQ", targets: ["ZeroMQ"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.12.0"),  // LogEvent (koers' JSON log handler)
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        // The operators' world: the HTTP server, /metrics, and hashes for tokens and webhook signatures.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.20.0", traits: []),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
    ],
    targets: [
        // libzmq from Debian's libzmq3-dev. `link "zmq"` in the module map rather than
        // `pkgConfig:`, whose Debian .pc file makes SwiftPM warn about `-isystem`.
        .systemLibrary(
            name: "CZeroMQ",
            path: "Sources/CZeroMQ",
            providers: [.apt(["libzmq3-dev"])]
        ),
        .target(
            name: "ZeroMQ",
            dependencies: [
                "CZeroMQ",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The plans that ship with Koers, as data: plans/nphln.yaml is the default plan.
        .target(
            name: "BuiltInPlans",
            path: "plans",
            resources: [.copy("nphln.yaml")]
        ),
        // The Toekomstplan model, its YAML format and its validation.
        .target(
            name: "Plan",
            dependencies: [
                "BuiltInPlans",
                .product(name: "Yams", package: "Yams"),
                // SHA-256 of the plan file, the compiled plan cache's key.
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The wire protocol of docs/protocol.md: envelope, fields, messages, strict codec.
        .target(
            name: "Wire",
            dependencies: ["Plan"]
        ),
        // The operators' protocol: the JSON documents of the stream, snapshot and
        // acknowledgement channels, and the one way a snapshot is built. Both the
        // aggregator and every operator-side tool import it.
        .target(
            name: "StreamProtocol",
            dependencies: ["Plan", "Status"]
        ),
        // Read-only access to the aggregator's stored history (replays, refusals, the
        // stream log, the acknowledgement log), for tools that must not import the aggregator.
        .target(
            name: "History",
            dependencies: ["Plan", "Status", "Wire", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // The theme-service kit: durable outbox, sender, report checks, CSV import.
        .target(
            name: "ThemeService",
            dependencies: [
                "ZeroMQ", "Plan", "Wire",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The status model: item states, roll-up, the schedule of time-driven changes, alerts.
        .target(
            name: "Status",
            dependencies: ["Plan"]
        ),
        // The SVG charts of milestones and indicators, for the web pages and the council
        // report alike: pure functions of plan items, observations and a date.
        .target(
            name: "Charts",
            dependencies: ["Plan", "Status"]
        ),
        // What the parts around the aggregator see of it: its numbered stream (live, from
        // the aggregator's own publisher) and its snapshots, and the one way to write
        // (acknowledge). The HTTP server and the notifiers import this, never Aggregator.
        .target(
            name: "Feed",
            dependencies: ["StreamProtocol", "Status", "Plan", "Wire"]
        ),
        // Metric names and help texts, the Prometheus registry, and the gauges that
        // follow the stream (items by state, alerts, progress against the path).
        .target(
            name: "Telemetry",
            dependencies: [
                "Feed", "StreamProtocol", "Status", "Plan",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The aggregator's HTTP server (Hummingbird): /metrics, /healthz, /readyz, the
        // JSON API under /api/v1 with its Server-Sent Events stream.
        .target(
            name: "HTTPServer",
            dependencies: [
                "Feed", "Telemetry", "Web", "Report", "StreamProtocol", "History", "Status", "Plan", "Wire",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The web pages (Dutch, rendered on the server with swift-mustache, live through
        // the SSE stream): overview, per wijk, per item, alerts; served by HTTPServer.
        .target(
            name: "Web",
            dependencies: [
                "Feed", "Charts", "StreamProtocol", "History", "Status", "Plan",
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        // The notifiers: Alertmanager and webhooks, fed from the stored stream, each
        // target with its own position in DATA/aggregator/notify.sqlite. HTTP through
        // Foundation's URLSession; never imports Aggregator, HTTPServer or ZeroMQ.
        .target(
            name: "Notify",
            dependencies: [
                "Feed", "History", "StreamProtocol", "Status", "Plan",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The council report (voortgangsbrief): written from the store as of a date, in
        // Dutch, as Markdown or one self-contained HTML page (with the Charts' SVG).
        .target(
            name: "Report",
            dependencies: ["Plan", "Status", "StreamProtocol", "History", "Charts", "Wire"]
        ),
        // The aggregator: ingest pipeline, report store.
        .target(
            name: "Aggregator",
            dependencies: [
                "ZeroMQ", "Plan", "Wire", "Status", "StreamProtocol", "History", "Feed",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for binding the report rows on the ingest path directly.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The operators' tools: the stream follower, the status tree, replay.
        .target(
            name: "Operators",
            dependencies: ["StreamProtocol", "History", "Status", "Plan", "Wire", "ZeroMQ"]
        ),
        // `koers demo`: the scenario and the runner that plays it with real processes.
        .target(
            name: "Demo",
            dependencies: ["Aggregator", "Operators", "History", "StreamProtocol", "ThemeService", "Status", "Plan", "Wire", "ZeroMQ"]
        ),
        // The theme plugins' own targets are added below the package, from `themePlugins`.
        // ThemeRegistry: every theme plugin of this build and the theme → plugin lookup. Its
        // list is generated from its dependencies by the build-tool plugin ListThemePlugins,
        // kept in BuildTools/ because Plugins/ holds theme plugins only (Plugins/README.md).
        .target(
            name: "ThemeRegistry",
            dependencies: ["ThemeService"] + themePluginDependencies,
            plugins: [.plugin(name: "ListThemePlugins")]
        ),
        .plugin(
            name: "ListThemePlugins",
            capability: .buildTool(),
            path: "BuildTools/ListThemePlugins"
        ),
        .executableTarget(
            name: "koers",
            dependencies: [
                "ZeroMQ",
                "Plan",
                "Wire",
                "ThemeService",
                "Aggregator",
                "Operators",
                "Status",
                "StreamProtocol",
                "History",
                "Demo",
                "Feed", "Telemetry", "HTTPServer", "Notify", "Report",
                .product(name: "Prometheus", package: "swift-prometheus"),
                "ThemeRegistry",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Benchmarks are not tests: `make bench` builds this in release mode.
        .executableTarget(
            name: "koers-bench",
            dependencies: [
                "ZeroMQ",
                "Wire",
                "Plan",
                "Status",
                "Aggregator",
                "Operators",
                "StreamProtocol",
                "History",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/KoersBench"
        ),
        // The theme side's own parts alone: outbox, CSV, checker, import.
        .testTarget(
            name: "ThemeServiceTests",
            dependencies: ["ThemeService", "ThemeRegistry", "Plan", "Wire"] + themePluginDependencies
        ),
        // The real-process suites: koers, and the outside programs they are tested with
        // (Prometheus, Alertmanager, Chromium, Python clients), as separate processes.
        .testTarget(
            name: "SystemTests",
            dependencies: ["ThemeService", "Aggregator", "Operators", "StreamProtocol", "History", "Plan", "Wire", "ZeroMQ",
                           "Notify", "Status", "Feed", .product(name: "CoreMetrics", package: "swift-metrics"),
                           .product(name: "Logging", package: "swift-log"), "ThemeRegistry"]
        ),
        .testTarget(
            name: "AggregatorTests",
            dependencies: ["Aggregator", "StreamProtocol", "History", "Status", "Plan", "Wire", "ZeroMQ", .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "StatusTests",
            dependencies: ["Status", "Plan"]
        ),
        // The charts: determinism, XML, the path against the status model, golden files.
        .testTarget(
            name: "ChartsTests",
            dependencies: ["Charts", "Status", "Plan"],
            exclude: ["Golden"]
        ),
        // The operator side over snapshot documents: narrowing, the text of alerts.
        .testTarget(
            name: "OperatorsTests",
            dependencies: ["Operators", "StreamProtocol", "Status", "Plan", "ZeroMQ"]
        ),
        .testTarget(
            name: "WireTests",
            dependencies: ["Wire", "Plan"]
        ),
        .testTarget(
            name: "PlanTests",
            dependencies: ["Plan"]
        ),
        .testTarget(
            name: "ZeroMQTests",
            dependencies: [
                "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)

// The theme plugins' targets, each owned whole by its theme team.
package.targets += themePlugins.map { name in
    .target(name: "\(name)Plugin", dependencies: ["ThemeService", "Plan", "Wire"], path: "Plugins/\(name)",
            exclude: ["README.md", "data"])
}
