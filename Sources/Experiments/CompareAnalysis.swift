import Emulation
import Foundation

/// Derived numbers of a compare matrix: the best reactive setting, speedups and geometric means.
public enum CompareAnalysis {
    /// The run of `scheduler` (its `--scheduler` text) in one cell, if it ran.
    public static func find(
        _ runs: [CompareRun], workload: String, size: CompareMatrix.Size, load: Double, scheduler: String
    ) -> CompareRun? {
        runs.first { $0.workload == workload && $0.size == size && $0.load == load && $0.scheduler == scheduler }
    }

    /// p99 latency in cycles, +∞ when nothing completed (the worst possible latency).
    public static func p99(_ run: CompareRun) -> Double {
        run.results.overall.latency.map { Double($0.p99Cycles) } ?? .infinity
    }

    /// Completed requests per second of virtual time.
    public static func throughput(_ run: CompareRun) -> Double { run.results.overall.throughputPerSecond }

    /// The setting of swept baseline `name` with the lowest p99 latency in a cell (ties: higher
    /// throughput, then sweep order), as its `--scheduler` text; `name` when none ran.
    public static func best(
        of name: String, _ runs: [CompareRun], workload: String, size: CompareMatrix.Size, load: Double
    ) -> String {
        let candidates = runs.filter {
            $0.workload == workload && $0.size == size && $0.load == load
                && ($0.scheduler == name || $0.scheduler.hasPrefix(name + ":"))
        }
        var best: CompareRun?
        for run in candidates {
            guard let current = best else {
                best = run
                continue
            }
            if p99(run) < p99(current) || (p99(run) == p99(current) && throughput(run) > throughput(current)) {
                best = run
            }
        }
        return best?.scheduler ?? name
    }

    /// The scheduler text a column stands for in one cell: a swept baseline resolves to its best setting.
    public static func resolve(
        _ column: String, _ matrix: CompareMatrix, _ runs: [CompareRun], workload: String, size: CompareMatrix.Size,
        latencyLoad: Double
    ) -> String {
        matrix.sweeps.contains { $0.baseline == column }
            ? best(of: column, runs, workload: workload, size: size, load: latencyLoad) : column
    }

    /// Throughput of `scheduler` over `baseline` at `load` (nil when either is missing or zero).
    public static func throughputSpeedup(
        _ runs: [CompareRun], workload: String, size: CompareMatrix.Size, load: Double,
        scheduler: String, baseline: String
    ) -> Double? {
        guard let a = find(runs, workload: workload, size: size, load: load, scheduler: scheduler),
            let b = find(runs, workload: workload, size: size, load: load, scheduler: baseline),
            throughput(b) > 0, throughput(a) > 0
        else { return nil }
        return throughput(a) / throughput(b)
    }

    /// p99 latency of `baseline` over `scheduler` at `load` (above 1: `scheduler` is faster).
    public static func latencySpeedup(
        _ runs: [CompareRun], workload: String, size: CompareMatrix.Size, load: Double,
        scheduler: String, baseline: String
    ) -> Double? {
        guard let a = find(runs, workload: workload, size: size, load: load, scheduler: scheduler),
            let b = find(runs, workload: workload, size: size, load: load, scheduler: baseline),
            p99(a).isFinite, p99(b).isFinite, p99(a) > 0
        else { return nil }
        return p99(b) / p99(a)
    }

    /// Geometric mean of the values (nil when empty).
    public static func geometricMean(_ values: [Double]) -> Double? {
        guard !values.isEmpty, values.allSatisfy({ $0 > 0 }) else { return nil }
        return exp(values.reduce(0) { $0 + log($1) } / Double(values.count))
    }
}
