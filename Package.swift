// swift-tools-version: 6.1
import CompilerPluginSupport
import PackageDescription

let package = Package(
    name: "Rill",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Rill", targets: ["Rill"]),
        .library(name: "RillJSON", targets: ["RillJSON"]),
        .library(name: "RillServer", targets: ["RillServer"]),
        .library(name: "RillTesting", targets: ["RillTesting"]),
        .library(name: "RillRedis", targets: ["RillRedis"]),
        .executable(name: "BackgroundTask", targets: ["BackgroundTask"]),
        .executable(name: "LowLevel", targets: ["LowLevel"]),
        .executable(name: "Todo", targets: ["Todo"]),
        .executable(name: "Room", targets: ["Room"]),
        .executable(name: "DurableCounter", targets: ["DurableCounter"]),
        .executable(name: "BenchServer", targets: ["BenchServer"]),
        .executable(name: "EchoServer", targets: ["EchoServer"]),
        .executable(name: "rill-bench", targets: ["RillBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swiftlang/swift-syntax.git", exact: "603.0.1"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/JohnSundell/Ink.git", from: "0.6.0"),
    ],
    targets: [
        .macro(
            name: "RillMacros",
            dependencies: [
                .product(name: "SwiftSyntax", package: "swift-syntax"),
                .product(name: "SwiftSyntaxMacros", package: "swift-syntax"),
                .product(name: "SwiftCompilerPlugin", package: "swift-syntax"),
                .product(name: "SwiftDiagnostics", package: "swift-syntax"),
            ]
        ),
        .target(name: "RillJSON"),
        .target(
            name: "Rill",
            dependencies: [
                "RillJSON",
                "RillMacros",
                .product(name: "Ink", package: "Ink"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "RESP",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "RillRedis",
            dependencies: [
                "Rill", "RESP", "RillServer", .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "RillServer",
            dependencies: [
                "Rill",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            resources: [.copy("Resources")]
        ),
        .target(
            name: "RillTesting",
            dependencies: ["Rill", .product(name: "DequeModule", package: "swift-collections")]
        ),
        .target(
            name: "RillClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            path: "Benchmarks/RillClient"
        ),
        .executableTarget(
            name: "RillFixtures",
            dependencies: ["Rill", "RillServer", "RillRedis"],
            path: "Tests/Fixtures/App"
        ),
        .target(
            name: "SeedExamples",
            dependencies: ["Rill", .product(name: "AsyncHTTPClient", package: "async-http-client")],
            path: "Examples/Seed"
        ),
        .executableTarget(name: "BackgroundTask", dependencies: ["RillServer", "RillRedis", "SeedExamples"], path: "Examples/BackgroundTask"),
        .executableTarget(name: "LowLevel", dependencies: ["RillServer", "SeedExamples"], path: "Examples/LowLevel"),
        .target(name: "TodoApp", dependencies: ["Rill"], path: "Examples/Todo/App"),
        .executableTarget(name: "Todo", dependencies: ["RillServer", "TodoApp"], path: "Examples/Todo/Main"),
        .executableTarget(name: "Room", dependencies: ["RillServer", "RillRedis"], path: "Examples/Room"),
        .executableTarget(name: "DurableCounter", dependencies: ["RillServer", "RillRedis"], path: "Examples/DurableCounter"),
        .executableTarget(name: "BenchServer", dependencies: ["RillServer", "RillRedis"], path: "Benchmarks/BenchServer"),
        .executableTarget(
            name: "EchoServer",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/EchoServer"
        ),
        .executableTarget(
            name: "RillBench",
            dependencies: [
                "RillClient", "RillServer",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/RillBench"
        ),
        .testTarget(
            name: "RillTests",
            dependencies: ["Rill", "RillTesting", "RillRedis", "SeedExamples", "TodoApp", .product(name: "InMemoryLogging", package: "swift-log")]
        ),
        .testTarget(name: "RillJSONTests", dependencies: ["RillJSON"]),
        .testTarget(
            name: "RillMacrosTests",
            dependencies: [
                "RillMacros",
                .product(name: "SwiftSyntaxMacrosGenericTestSupport", package: "swift-syntax"),
            ]
        ),
        .target(
            name: "RedisServerSupport",
            dependencies: ["RESP", .product(name: "NIOPosix", package: "swift-nio")],
            path: "Tests/RedisServerSupport"
        ),
        .testTarget(name: "RESPTests", dependencies: ["RESP", "RedisServerSupport"]),
        .testTarget(
            name: "RillRedisTests",
            dependencies: ["RillRedis", "RillTesting", "RESP", "RedisServerSupport", .product(name: "InMemoryLogging", package: "swift-log")]
        ),
        .testTarget(
            name: "RillClientTests",
            dependencies: [
                "RillClient", "RillServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "RillServerTests",
            dependencies: [
                "RillServer", "RillClient", "RillTesting", "SeedExamples",
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
