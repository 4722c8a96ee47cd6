// swift-tools-version: 6.0
import PackageDescription

/// Release builds put the Swift runtime and Foundation inside the `octopus` binary instead of
/// loading them as shared libraries (the flag at every compile of our targets, for the static
/// libraries' module files, and at the link). A wafer starts a process per cluster, and each used to
/// spend most of its start relocating those libraries and resolving their symbols: now every
/// process of a 16×16 wafer has registered after 0.03–0.24 s instead of 0.21–0.99 s, and the whole
/// command takes 2.6–3.0 s instead of 3.2–4.5 s; one process runs 1.04–1.09× the task blocks per
/// second (calls into the runtime skip the dynamic linker's tables) and 17 processes 1.06×
/// (alternating runs; docs/synchronisation.md). The binary (about 100 MB) needs no Swift toolchain
/// on a host, only the Debian libraries it links (libzmq, zlib, libcrypto). Debug builds, which the tests
/// run, link as before (quickly); `scripts/test` also runs the end-to-end tests on the release build.
let staticRuntime: [SwiftSetting] = [.unsafeFlags(["-static-stdlib"], .when(configuration: .release))]

/// Release builds of the targets every cluster process runs reach the metadata of generic types
/// through direct accessor calls rather than by mangled type name: a name is demangled the first
/// time its call site runs, in every process, and a 16×16 wafer's 257 processes each paid that
/// while decoding their setup and in their first windows. With direct accessors a 16×16 wafer is
/// ready in 0.74 s instead of 0.93 s and the whole command takes 2.86 s instead of 3.07 s
/// (medians of 5 alternating runs; one-process speed unchanged, the binary 50 KB larger)
/// (docs/synchronisation.md, "Across processes: windows", on start-up).
let metadataSettings: [SwiftSetting] =
    staticRuntime + [
        .unsafeFlags(
            ["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"], .when(configuration: .release))
    ]

/// The engine and the scheduling policies are also built without Swift's run-time exclusivity
/// checks in release builds: those checks (on every access to a class's stored property) were
/// about a tenth of a one-process run, and dropping them gave 15-19% more task blocks per second
/// on the fan-out, default, mixed and llm-agent workloads (docs/synchronisation.md, "The
/// one-process engine"). Debug builds, which the test suite runs, keep them, so an overlapping
/// access still traps there.
let engineSettings: [SwiftSetting] =
    metadataSettings + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "octopus",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "octopus", targets: ["octopus"]),
        .library(name: "WaferModel", targets: ["WaferModel"]),
        .library(name: "Scheduling", targets: ["Scheduling"]),
        .library(name: "Emulation", targets: ["Emulation"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        // libzmq from Debian (libzmq3-dev), found through pkg-config.
        .systemLibrary(
            name: "CZeroMQ",
            pkgConfig: "libzmq",
            providers: [.apt(["libzmq3-dev"])]
        ),
        // zlib from Debian (zlib1g-dev) for compressed Perfetto traces, through pkg-config.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // OpenSSL's libcrypto from Debian (libssl-dev): SHA-256 digests of the files a run read.
        .systemLibrary(
            name: "CCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // prctl(PR_SET_PDEATHSIG) is variadic in C, so Swift reaches it through this shim.
        .target(name: "CProcessControl"),
        // The running executable's GNU build ID (dl_iterate_phdr), for `octopus --version` and summaries.
        .target(name: "CBuildInfo"),
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"], swiftSettings: staticRuntime),
        .target(
            name: "WaferModel",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "HeapModule", package: "swift-collections"),
                "CCrypto",
            ],
            swiftSettings: metadataSettings
        ),
        .target(name: "Scheduling", dependencies: ["WaferModel"], swiftSettings: engineSettings),
        .target(
            name: "Emulation",
            dependencies: [
                "WaferModel", "Scheduling", "CZlib",
                .product(name: "Collections", package: "swift-collections"),
            ],
            swiftSettings: engineSettings
        ),
        // Functional mode: real tensors through the task blocks' kernels (GEMMs on Debian's OpenBLAS,
        // libopenblas-dev, loaded on first use rather than linked: see Sources/Functional/GEMM.swift).
        .target(name: "Functional", dependencies: ["WaferModel"], swiftSettings: staticRuntime),
        .target(
            name: "Runtime",
            dependencies: ["Emulation", "WaferModel", "Scheduling", "ZeroMQ", "CProcessControl", "CBuildInfo"],
            swiftSettings: metadataSettings
        ),
        // `octopus report`: a self-contained HTML page of one or more runs (Chart.js inlined).
        .target(
            name: "Reports", dependencies: ["Emulation", "Experiments", "WaferModel"], swiftSettings: staticRuntime),
        // `octopus compare`: the scheduler × workload × wafer-size experiment and its reports.
        .target(
            name: "Experiments", dependencies: ["Emulation", "Scheduling", "WaferModel"], swiftSettings: staticRuntime),
        .executableTarget(
            name: "octopus",
            dependencies: [
                "Runtime", "Emulation", "WaferModel", "Scheduling", "Experiments", "Functional", "Reports",
                "CProcessControl",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: staticRuntime,
            linkerSettings: [.unsafeFlags(["-static-stdlib"], .when(configuration: .release))]
        ),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"]),
        .testTarget(name: "WaferModelTests", dependencies: ["WaferModel"]),
        .testTarget(name: "SchedulingTests", dependencies: ["Scheduling", "WaferModel"]),
        .testTarget(
            name: "EmulationTests", dependencies: ["Emulation", "Scheduling", "WaferModel"],
            exclude: ["golden-digests.txt"]),
        .testTarget(name: "FunctionalTests", dependencies: ["Functional", "Emulation", "WaferModel"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Emulation", "Scheduling", "WaferModel"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "Emulation", "Scheduling", "WaferModel"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["Runtime", "Emulation", "Scheduling", "WaferModel", "ZeroMQ", "Functional"]
        ),
    ],
    swiftLanguageModes: [.v5]
)
