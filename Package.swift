// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Rolo",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "rolo", targets: ["rolo"])
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // SHA-256 for the hash-chained audit log (Foundation on Linux has no CryptoKit).
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // libedit, reached through a system-library target; shim.h wraps the variadic C calls.
        .systemLibrary(
            name: "CLibEdit",
            path: "Sources/CLibEdit",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        // libpq, PostgreSQL's C client (Debian's libpq-dev), the same way: synchronous like the
        // engine, COPY and pipelining, no build time (docs/architecture.md, "The server backend").
        .systemLibrary(
            name: "CLibPQ",
            path: "Sources/CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // The language: locations, lexer, syntax tree, parser, diagnostics. Standard library only.
        .target(name: "RoloSyntax"),
        // Storage: schema, migrations, the sample company generator. RoloSyntax for its error codes.
        .target(
            name: "RoloStore",
            dependencies: ["RoloSyntax", "CLibPQ", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // Binder, permissions, planner, executor, change sets, formatters.
        .target(
            name: "RoloEngine",
            dependencies: [
                "RoloSyntax", "RoloStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // REPL, script runner, line reading, completion, help.
        .target(name: "RoloShell", dependencies: ["RoloEngine", "RoloSyntax", "RoloStore", "CLibEdit"]),
        .executableTarget(
            name: "rolo",
            dependencies: [
                "RoloShell", "RoloEngine", "RoloStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "RoloTestSupport",
            dependencies: ["RoloShell", "RoloEngine", "RoloStore"]
        ),
        .testTarget(name: "RoloSyntaxTests", dependencies: ["RoloSyntax", "RoloEngine"]),
        .testTarget(name: "RoloStoreTests", dependencies: ["RoloStore", "RoloTestSupport"]),
        .testTarget(
            name: "RoloEngineTests",
            dependencies: ["RoloEngine", "RoloShell", "RoloTestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "RoloShellTests", dependencies: ["RoloShell", "RoloTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
