import WaferModel

/// Running mean and variance (Welford's algorithm).
public struct RunningStatistics: Equatable, Sendable {
    public private(set) var count: Double = 0
    public private(set) var mean: Double = 0
    private var m2: Double = 0

    public init() {}

    /// Adds `n` observations summing to `sum` with squares summing to `squares`.
    public mutating func add(count n: Double, sum: Double, squares: Double) {
        guard n > 0 else { return }
        // Chan et al.'s parallel combination of two (count, mean, M2) summaries.
        let batchMean = sum / n
        let batchM2 = max(0, squares - sum * sum / n)
        let total = count + n
        let delta = batchMean - mean
        mean += delta * n / total
        m2 += batchM2 + delta * delta * count * n / total
        count = total
    }

    public mutating func add(_ x: Double) { add(count: 1, sum: x, squares: x * x) }

    public var variance: Double { count > 1 ? m2 / (count - 1) : 0 }

    /// Coefficient of variation (standard deviation over mean; 0 for a zero mean).
    public var coefficientOfVariation: Double { mean == 0 ? 0 : variance.squareRoot() / abs(mean) }
}

/// Discriminates task-block types at run time by their observed dual dynamicity:
///
/// - **execution time**: the coefficient of variation of the cycles of each run;
/// - **execution frequency**: the coefficient of variation of the runs per request of the type's
///   workflow, over observation windows of at least `windowRequests` arrivals each.
///
/// A type is **stable** once it has at least `minimumRuns` runs and `minimumWindows` windows and
/// both coefficients are at most `threshold`; it is **dynamic** when either exceeds it, and
/// **unknown** before that (the scheduler treats unknown types as dynamic).
public struct TaskClassifier: Sendable {
    public enum Class: String, Sendable { case stable, dynamic, unknown }

    /// The default threshold: only types whose execution time and frequency vary by at most 2%
    /// keep reserved TBUs. Chosen by the reservation sweep (docs/results/stable-sweep.md): reserving
    /// less lowered tail latency on every size, with throughput equal or better; 2% rather than 0
    /// so rounding in the running statistics cannot make a constant type dynamic.
    public static let defaultThreshold = 0.02

    public var threshold: Double
    public var minimumRuns: Double
    public var minimumWindows: Double
    public var windowRequests: Int

    public private(set) var time: [TaskType: RunningStatistics] = [:]
    public private(set) var frequency: [TaskType: RunningStatistics] = [:]
    // The open window of each workflow: arrivals, and runs of its types.
    private var windowArrivals: [UInt16: Int] = [:]
    private var windowRuns: [TaskType: Double] = [:]
    private var typesOf: [UInt16: Set<TaskType>] = [:]

    public init(
        threshold: Double = TaskClassifier.defaultThreshold, minimumRuns: Double = 8, minimumWindows: Double = 3,
        windowRequests: Int = 8
    ) {
        self.threshold = threshold
        self.minimumRuns = minimumRuns
        self.minimumWindows = minimumWindows
        self.windowRequests = windowRequests
    }

    /// Declares the task-block types of a workflow (so a type that never runs in a window counts 0).
    public mutating func declare(_ types: [TaskType]) {
        for type in types { typesOf[type.workflow, default: []].insert(type) }
    }

    /// Records `runs` runs of `type` taking `cycles` in total and `squares` Σ cycles².
    public mutating func observeRuns(_ type: TaskType, runs: Double, cycles: Double, squares: Double) {
        time[type, default: RunningStatistics()].add(count: runs, sum: cycles, squares: squares)
        windowRuns[type, default: 0] += runs
        typesOf[type.workflow, default: []].insert(type)
    }

    /// Records `count` arrivals of `workflow`; closes its window when it is full.
    public mutating func observeArrivals(workflow: UInt16, count: Int) {
        windowArrivals[workflow, default: 0] += count
        let arrivals = windowArrivals[workflow]!
        guard arrivals >= windowRequests else { return }
        for type in typesOf[workflow] ?? [] {
            frequency[type, default: RunningStatistics()].add((windowRuns[type] ?? 0) / Double(arrivals))
            windowRuns[type] = 0
        }
        windowArrivals[workflow] = 0
    }

    /// The class of `type` from what has been observed.
    public func classify(_ type: TaskType) -> Class {
        guard let t = time[type], let f = frequency[type], t.count >= minimumRuns, f.count >= minimumWindows else {
            return .unknown
        }
        return t.coefficientOfVariation <= threshold && f.coefficientOfVariation <= threshold ? .stable : .dynamic
    }

    /// Every type classified stable (``classify(_:)`` of every observed type, read in one pass:
    /// the planner asks every planning period).
    public var stableTypes: Set<TaskType> {
        var stable = Set<TaskType>()
        for (type, t) in time where t.count >= minimumRuns && t.coefficientOfVariation <= threshold {
            guard let f = frequency[type], f.count >= minimumWindows, f.coefficientOfVariation <= threshold else {
                continue
            }
            stable.insert(type)
        }
        return stable
    }
}
