import Scheduling
import WaferModel

/// What `octopus compare` runs: every scheduler on every workload on every wafer size, at one or
/// more offered loads. Every run is in one process (the deterministic oracle), so a matrix gives
/// the same numbers on every machine.
public struct CompareMatrix: Sendable {
    /// A wafer size in clusters.
    public struct Size: Hashable, Sendable, CustomStringConvertible, Codable {
        public var rows: Int
        public var columns: Int
        public init(rows: Int, columns: Int) {
            self.rows = rows
            self.columns = columns
        }
        public var clusters: Int { rows * columns }
        public var description: String { "\(rows)x\(columns)" }

        /// Reads `RxC` (e.g. `8x8`).
        public static func parse(_ text: String) -> Size? {
            let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts.allSatisfy({ (1...64).contains($0) }) else { return nil }
            return Size(rows: parts[0], columns: parts[1])
        }
    }

    /// Workload names (files `NAME.yaml` in the workload directory) or paths.
    public var workloads: [String]
    public var sizes: [Size]
    /// The offered loads `--loads` may ask for: a hundredth to a hundred times a workload's own rate.
    public static let loadRange = 0.01...100.0

    /// Offered loads, as multiples of each workload's own rate (after scaling to the wafer size).
    /// Latency is compared at the first load; throughput at the last.
    public var loads: [Double]
    /// Where the schedulers come from: its baselines (swept ones at every setting of their sweep)
    /// and its ablation ladder, whose last step is the scheduler under test.
    public var registry: SchedulerRegistry
    /// The wafer size (in clusters) the workload files are written for: a workload's rate and
    /// request count are scaled by clusters / referenceClusters, so load per cluster is constant.
    public var referenceClusters: Int
    /// Runs of every cell with different seeds: replicate `r` (from 0) adds `r` to the wafer seed
    /// and to every injection seed, so replicate 0 is the run the seeds name. Speedups are reported
    /// with a confidence interval over the replicates once there are two or more.
    public var replicates: Int
    /// How every run refuses work under overload: `inFlight` (the default) puts one admission
    /// control in front of every scheduler — at most the wafer's `max_in_flight` unfinished
    /// requests, by default clusters × `queue_capacity` at each size — so saturated throughputs
    /// compare schedulers, not rejection rules; `queues` lets each scheduler's queues reject.
    public var admission: AdmissionConfig.Policy
    /// Settings of the scheduler under test (or any scheduler) run in every cell beside the
    /// matrix, as `--scheduler` texts (e.g. `octopus:lend=1`): a parameter sweep compared with the
    /// same baselines and seeds.
    public var variants: [String]
    /// Parameter values every run's scheduler takes where it has the parameter and its text does
    /// not set it (e.g. a planning period suited to blocks that last seconds); runs are still
    /// recorded under their plain names.
    public var schedulerParameters: [String: String]

    public init(
        workloads: [String] = CompareMatrix.defaultWorkloads, sizes: [Size] = CompareMatrix.defaultSizes,
        loads: [Double] = [1, 4], registry: SchedulerRegistry = .standard, referenceClusters: Int = 16,
        replicates: Int = 1, admission: AdmissionConfig.Policy = .inFlight, variants: [String] = [],
        schedulerParameters: [String: String] = [:]
    ) {
        self.workloads = workloads
        self.sizes = sizes
        self.loads = loads
        self.registry = registry
        self.referenceClusters = referenceClusters
        self.replicates = max(1, replicates)
        self.admission = admission
        self.variants = variants
        self.schedulerParameters = schedulerParameters
    }

    /// The replicate numbers, from 0.
    public var replicateRange: Range<Int> { 0..<replicates }

    /// One workload on one wafer size: the unit a sharded run divides the matrix into (its runs
    /// depend on each other — a swept baseline's best setting — and on nothing else).
    public struct Cell: Sendable, Equatable {
        public var size: Size
        public var workload: String
    }

    /// The cells in matrix order (sizes, then workloads).
    public var cells: [Cell] { sizes.flatMap { size in workloads.map { Cell(size: size, workload: $0) } } }

    /// The built-in suite and the mixed workload.
    public static let defaultWorkloads = [
        "video-analytics", "ar-assistant", "llm-agent", "recsys", "driving-perception", "mixed",
    ]
    public static let defaultSizes = [Size(rows: 2, columns: 2), Size(rows: 4, columns: 4), Size(rows: 8, columns: 8)]
    /// The scheduler under test: the last step of the ablation ladder.
    public var underTest: String { registry.ablationLadder.last?.name ?? "octopus" }

    /// Schedulers run as they are: the baselines without a sweep, then the ladder's steps, the
    /// ideal references and the variants.
    public var fixedSchedulers: [String] {
        var names = registry.baselines.filter(\.comparison.sweep.isEmpty).map(\.name)
        for step in registry.ablationLadder where !names.contains(step.name) { names.append(step.name) }
        for ideal in registry.ideals where !names.contains(ideal.name) { names.append(ideal.name) }
        for variant in variants where !names.contains(variant) { names.append(variant) }
        return names
    }

    /// The swept baselines, each with the text forms of its settings.
    public var sweeps: [(baseline: String, settings: [String])] {
        registry.baselines.filter { !$0.comparison.sweep.isEmpty }.map { ($0.name, registry.sweepTexts(of: $0)) }
    }

    /// `base` resized to `size`, keeping its die shape where it fits, with its seed moved by
    /// `replicate` and the matrix's admission policy.
    public func wafer(_ base: WaferConfig, size: Size, replicate: Int = 0) -> WaferConfig {
        var config = Self.wafer(base, size: size)
        config.seed &+= UInt64(replicate)
        var admission = base.admission
        admission.policy = self.admission
        config.admission = admission
        return config
    }

    /// `base` resized to `size`, keeping its die shape where it fits.
    public static func wafer(_ base: WaferConfig, size: Size) -> WaferConfig {
        var config = base
        config.rows = size.rows
        config.columns = size.columns
        config.dieRows = min(base.dieRows, size.rows)
        config.dieColumns = min(base.dieColumns, size.columns)
        while size.rows % config.dieRows != 0 { config.dieRows -= 1 }
        while size.columns % config.dieColumns != 0 { config.dieColumns -= 1 }
        config.name = "\(base.name.split(separator: "-").first.map(String.init) ?? base.name)-\(size)"
        return config
    }
}
