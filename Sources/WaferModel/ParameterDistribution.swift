import Foundation

/// A distribution over non-negative integers: shape parameters of model tables (sequence length,
/// number of objects…), for-each counts and loop trip counts, drawn per request at run time.
public enum ParameterDistribution: Codable, Equatable, Sendable {
    /// Uniform over the integers `low...high`.
    case uniform(low: Int, high: Int)
    /// One of `values`, each equally likely (a single value is a constant).
    case choice([Int])
    /// Poisson with the given mean, clamped to `max` (the clamped mass sits at `max`).
    case poisson(mean: Double, max: Int)
    /// Geometric (failures before the first success) with the given mean, clamped to `max`.
    case geometric(mean: Double, max: Int)

    /// The smallest value it can take (timing lower bounds use it: cycles never decrease when a
    /// dimension grows).
    public var minimum: Int {
        switch self {
        case .uniform(let low, _): return low
        case .choice(let values): return values.min()!
        case .poisson, .geometric: return 0
        }
    }

    /// The largest value it can take.
    public var maximum: Int {
        switch self {
        case .uniform(_, let high): return high
        case .choice(let values): return values.max()!
        case .poisson(_, let max), .geometric(_, let max): return max
        }
    }

    /// Every value it can take, for validation (bounded: ranges are checked at both ends).
    var extremes: [Int] {
        switch self {
        case .uniform(let low, let high): return [low, high]
        case .choice(let values): return values
        case .poisson(_, let max), .geometric(_, let max): return [0, max]
        }
    }

    /// The probability of each value, in increasing order of value (exact; for the analytical
    /// expectations of ``WorkflowAnalysis``).
    public var probabilities: [(value: Int, probability: Double)] {
        switch self {
        case .uniform(let low, let high):
            let p = 1 / Double(high - low + 1)
            return (low...high).map { ($0, p) }
        case .choice(let values):
            var counts: [Int: Int] = [:]
            for v in values { counts[v, default: 0] += 1 }
            return counts.keys.sorted().map { ($0, Double(counts[$0]!) / Double(values.count)) }
        case .poisson(let mean, let max):
            var result: [(Int, Double)] = []
            var p = exp(-mean)
            var total = 0.0
            for k in 0..<max {
                result.append((k, p))
                total += p
                p *= mean / Double(k + 1)
            }
            result.append((max, Swift.max(0, 1 - total)))
            return result
        case .geometric(let mean, let max):
            let q = mean / (1 + mean)
            var result: [(Int, Double)] = []
            var p = 1 - q
            var total = 0.0
            for k in 0..<max {
                result.append((k, p))
                total += p
                p *= q
            }
            result.append((max, Swift.max(0, 1 - total)))
            return result
        }
    }

    /// `value` moved into `minimum...maximum` (a value a request brings must stay inside the range
    /// the workflow was validated for, and no lower than the bounds timing predictions rely on).
    public func clamp(_ value: Int) -> Int { Swift.min(maximum, Swift.max(minimum, value)) }

    /// The expected value (exact, including the clamp at `max`).
    public var mean: Double { probabilities.reduce(0) { $0 + Double($1.value) * $1.probability } }

    /// A draw from `rng`.
    public func sample(_ rng: inout SplitMix64) -> Int {
        switch self {
        case .uniform(let low, let high): return low + Int(rng.next() % UInt64(high - low + 1))
        case .choice(let values): return values[Int(rng.next() % UInt64(values.count))]
        case .poisson(let mean, let max):
            // Knuth's product method for small means, a rounded normal approximation otherwise.
            if mean < 30 {
                let limit = exp(-mean)
                var k = 0
                var product = rng.nextUnit()
                while product > limit && k < max {
                    k += 1
                    product *= rng.nextUnit()
                }
                return k
            }
            let u1 = Swift.max(rng.nextUnit(), 1e-300)
            let u2 = rng.nextUnit()
            let normal = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            return Swift.min(max, Swift.max(0, Int((mean + normal * mean.squareRoot()).rounded())))
        case .geometric(let mean, let max):
            guard mean > 0 else { return 0 }
            let q = mean / (1 + mean)
            let u = 1 - rng.nextUnit()  // (0, 1]
            return Swift.min(max, Int((log(u) / log(q)).rounded(.down)))
        }
    }
}

/// A model table whose shape parameters are drawn per request (`{model: T, params: {p: {uniform: …}}}`),
/// possibly from a different distribution in each phase.
public struct DynamicModel: Codable, Equatable, Sendable {
    public var name: String
    public var table: TopologyTable
    /// Parameters fixed in the workflow file.
    public var fixed: [String: Int]
    /// Parameters drawn per request. A parameter taken from the request (``fromRequest``) is here
    /// too, with the request parameter's distribution: what is drawn when the request brings no
    /// value, and the range a value it brings is clamped into.
    public var drawn: [String: Phased<ParameterDistribution>]
    /// Parameters whose value comes from the request's own parameters (`{request: NAME}`).
    public var fromRequest: [String: RequestUse]

    public init(
        name: String, table: TopologyTable, fixed: [String: Int], drawn: [String: Phased<ParameterDistribution>],
        fromRequest: [String: RequestUse] = [:]
    ) {
        self.name = name
        self.table = table
        self.fixed = fixed
        self.drawn = drawn
        self.fromRequest = fromRequest
    }

    /// The parameter values of one request in `phase`, drawn from `rng` in name order; a
    /// parameter taken from the request uses `value(use)` when it gives one (clamped into the
    /// parameter's range), else its draw. Every parameter is drawn either way, so the draws of the
    /// others do not depend on which requests bring values.
    public func sample(_ rng: inout SplitMix64, phase: Int = 0, requestValue value: (RequestUse) -> Int? = { _ in nil })
        -> [Int]
    {
        drawn.keys.sorted().map { key in
            let distribution = drawn[key]![phase]
            let draw = distribution.sample(&rng)
            guard let use = fromRequest[key], let given = value(use) else { return draw }
            return distribution.clamp(given)
        }
    }

    /// The smallest values of the drawn parameters over all phases, in name order.
    public var minimumValues: [Int] { drawn.keys.sorted().map { drawn[$0]!.values.map(\.minimum).min()! } }

    /// The layers for drawn `values` (in name order).
    public func layers(values: [Int]) throws -> [Layer] {
        var parameters = fixed
        for (name, value) in zip(drawn.keys.sorted(), values) { parameters[name] = value }
        return try table.layers(parameters)
    }

    /// Cycles of all layers for `values` on `array` fed from `buffer`.
    public func cycles(values: [Int], array: PEArrayConfig, buffer: LayerTiming.ClusterBuffer?) -> Cycle {
        // Values were validated at load time, so the table evaluates.
        let layers = (try? self.layers(values: values)) ?? []
        return layers.reduce(0) { total, layer in
            total + LayerTiming.totalCycles(of: layer, array: array, buffer: buffer)
        }
    }
}

/// A value taken from a request's own parameters (declared in the workflow's `request_params`,
/// given per request by a replayed trace's columns), optionally plus the iteration of a loop the
/// request is in (a decode step's context grows by one token per step).
public struct RequestUse: Codable, Equatable, Hashable, Sendable {
    /// The request parameter's name.
    public var parameter: String
    /// A loop block whose current iteration (0 for the first body run) is added.
    public var plusIterationOf: String?

    public init(parameter: String, plusIterationOf: String? = nil) {
        self.parameter = parameter
        self.plusIterationOf = plusIterationOf
    }
}

/// A parameter every request of a workflow has (`request_params:`): its value comes from the
/// request when the injection gives one (a trace column), otherwise it is drawn from `values`;
/// given values are clamped into `values`' range.
public struct RequestParameter: Codable, Equatable, Sendable {
    public var name: String
    public var values: ParameterDistribution

    public init(name: String, values: ParameterDistribution) {
        self.name = name
        self.values = values
    }
}
