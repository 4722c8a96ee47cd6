import Emulation
import Foundation

/// Derived numbers of a compare matrix: the best reactive setting, speedups and geometric means.
public enum CompareAnalysis {
    /// The run of `scheduler` (its `--scheduler` text) in one cell and replicate, if it ran.
    public static func find(
        _ runs: [CompareRun], workload: String, size: CompareMatrix.Size, load: Double, scheduler: String,
        replicate: Int = 0
    ) -> CompareRun? {
        runs.first {
            $0.workload == workload && $0.size == size && $0.load == load && $0.scheduler == scheduler
                && $0.replicateNumber == replicate
        }
    }

    /// p99 latency in cycles, +∞ when nothing completed (the worst possible latency).
    public static func p99(_ run: CompareRun) -> Double {
        run.results.overall.latency.map { Double($0.p99Cycles) } ?? .infinity
    }

    /// Completed requests per second of virtual time.
    public static func throughput(_ run: CompareRun) -> Double { run.results.overall.throughputPerSecond }

    /// The setting of swept baseline `name` with the lowest p99 latency in a cell — the geometric
    /// mean over the cell's replicates, so one setting serves every replicate (ties: higher mean
    /// throughput, then the order of `sweep`, the settings in sweep order) — as its `--scheduler`
    /// text; `name` when none ran. The choice depends only on the runs, never on their order (a
    /// resumed compare finds the same setting as an uninterrupted one).
    public static func best(
        of name: String, _ runs: [CompareRun], workload: String, size: CompareMatrix.Size, load: Double,
        sweep: [String] = []
    ) -> String {
        let candidates = runs.filter {
            $0.workload == workload && $0.size == size && $0.load == load
                && ($0.scheduler == name || $0.scheduler.hasPrefix(name + ":"))
        }
        var byScheduler: [String: [CompareRun]] = [:]
        for run in candidates { byScheduler[run.scheduler, default: []].append(run) }
        // Floating-point sums in replicate order, settings in sweep order (then by name).
        for key in byScheduler.keys { byScheduler[key]!.sort { $0.replicateNumber < $1.replicateNumber } }
        let rank = Dictionary(sweep.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let settings = byScheduler.keys.sorted {
            (rank[$0] ?? Int.max, $0) < (rank[$1] ?? Int.max, $1)
        }
        func latency(_ setting: String) -> Double {
            let values = byScheduler[setting, default: []].map(p99)
            return values.allSatisfy(\.isFinite) ? (geometricMean(values) ?? .infinity) : .infinity
        }
        func rate(_ setting: String) -> Double {
            let values = byScheduler[setting, default: []].map(throughput)
            return values.reduce(0, +) / Double(max(1, values.count))
        }
        var best: String?
        for setting in settings {
            guard let current = best else {
                best = setting
                continue
            }
            let (l, c) = (latency(setting), latency(current))
            if l < c || (l == c && rate(setting) > rate(current)) { best = setting }
        }
        return best ?? name
    }

    /// The scheduler text a column stands for in one cell: a swept baseline resolves to its best setting.
    public static func resolve(
        _ column: String, _ matrix: CompareMatrix, _ runs: [CompareRun], workload: String, size: CompareMatrix.Size,
        latencyLoad: Double
    ) -> String {
        guard let sweep = matrix.sweeps.first(where: { $0.baseline == column }) else { return column }
        return best(of: column, runs, workload: workload, size: size, load: latencyLoad, sweep: sweep.settings)
    }

    /// Throughput of `scheduler` over `baseline` at `load` in one replicate (nil when either is
    /// missing or zero).
    public static func throughputSpeedup(
        _ runs: [CompareRun], workload: String, size: CompareMatrix.Size, load: Double,
        scheduler: String, baseline: String, replicate: Int = 0
    ) -> Double? {
        guard
            let a = find(runs, workload: workload, size: size, load: load, scheduler: scheduler, replicate: replicate),
            let b = find(runs, workload: workload, size: size, load: load, scheduler: baseline, replicate: replicate),
            throughput(b) > 0, throughput(a) > 0
        else { return nil }
        return throughput(a) / throughput(b)
    }

    /// p99 latency of `baseline` over `scheduler` at `load` in one replicate (above 1:
    /// `scheduler` is faster).
    public static func latencySpeedup(
        _ runs: [CompareRun], workload: String, size: CompareMatrix.Size, load: Double,
        scheduler: String, baseline: String, replicate: Int = 0
    ) -> Double? {
        guard
            let a = find(runs, workload: workload, size: size, load: load, scheduler: scheduler, replicate: replicate),
            let b = find(runs, workload: workload, size: size, load: load, scheduler: baseline, replicate: replicate),
            p99(a).isFinite, p99(b).isFinite, p99(a) > 0
        else { return nil }
        return p99(b) / p99(a)
    }

    /// Geometric mean of the values (nil when empty).
    public static func geometricMean(_ values: [Double]) -> Double? {
        guard !values.isEmpty, values.allSatisfy({ $0 > 0 }) else { return nil }
        return exp(values.reduce(0) { $0 + log($1) } / Double(values.count))
    }

    /// A ratio measured in several replicates: their geometric mean and a 95% confidence interval
    /// (Student's t on the logarithms, as ratios are compared multiplicatively).
    public struct Estimate: Equatable, Sendable {
        public var value: Double
        /// Bounds of the interval; nil with fewer than two replicates.
        public var low: Double?
        public var high: Double?
        public var replicates: Int

        /// Whether the interval excludes 1 (nil without an interval).
        public var significant: Bool? {
            guard let low, let high else { return nil }
            return !(low <= 1 && 1 <= high)
        }
    }

    /// The estimate of a ratio from its values in the replicates (nil when there are none).
    public static func estimate(_ ratios: [Double]) -> Estimate? {
        let values = ratios.filter { $0 > 0 && $0.isFinite }
        guard !values.isEmpty else { return nil }
        let logs = values.map { log($0) }
        let n = Double(logs.count)
        let mean = logs.reduce(0, +) / n
        guard logs.count > 1 else { return Estimate(value: exp(mean), replicates: 1) }
        let variance = logs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        let half = studentT975(degreesOfFreedom: logs.count - 1) * (variance / n).squareRoot()
        return Estimate(value: exp(mean), low: exp(mean - half), high: exp(mean + half), replicates: logs.count)
    }

    /// The 97.5th percentile of Student's t distribution (two-sided 95%): tabulated to 30
    /// degrees of freedom, then the Cornish–Fisher expansion to second order,
    /// z + (z³ + z)/(4ν) + (5z⁵ + 16z³ + 3z)/(96ν²), within 0.001.
    public static func studentT975(degreesOfFreedom ν: Int) -> Double {
        let table: [Double] = [
            12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
            2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
        ]
        precondition(ν >= 1, "a t interval needs at least two values")
        if ν <= table.count { return table[ν - 1] }
        let z = 1.959964
        let (z3, z5, n) = (z * z * z, z * z * z * z * z, Double(ν))
        return z + (z3 + z) / (4 * n) + (5 * z5 + 16 * z3 + 3 * z) / (96 * n * n)
    }
}
