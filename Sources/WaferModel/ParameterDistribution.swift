/// How a shape parameter of a model table (sequence length, number of objects…) is chosen for each
/// request at run time.
public enum ParameterDistribution: Codable, Equatable, Sendable {
    /// Uniform over the integers `low...high`.
    case uniform(low: Int, high: Int)
    /// One of `values`, each equally likely.
    case choice([Int])

    /// The smallest value it can take (timing lower bounds use it: cycles never decrease when a
    /// dimension grows).
    public var minimum: Int {
        switch self {
        case .uniform(let low, _): return low
        case .choice(let values): return values.min()!
        }
    }

    /// Every value it can take, for validation (bounded: uniform ranges are checked at both ends).
    var extremes: [Int] {
        switch self {
        case .uniform(let low, let high): return [low, high]
        case .choice(let values): return values
        }
    }

    /// A draw from `rng`.
    public func sample(_ rng: inout SplitMix64) -> Int {
        switch self {
        case .uniform(let low, let high): return low + Int(rng.next() % UInt64(high - low + 1))
        case .choice(let values): return values[Int(rng.next() % UInt64(values.count))]
        }
    }
}

/// A model table whose shape parameters are drawn per request (`{model: T, params: {p: {uniform: …}}}`).
public struct DynamicModel: Codable, Equatable, Sendable {
    public var name: String
    public var table: TopologyTable
    /// Parameters fixed in the workflow file.
    public var fixed: [String: Int]
    /// Parameters drawn per request, in name order.
    public var drawn: [String: ParameterDistribution]

    /// The parameter values of one request, drawn from `rng` in name order.
    public func sample(_ rng: inout SplitMix64) -> [Int] {
        drawn.keys.sorted().map { drawn[$0]!.sample(&rng) }
    }

    /// The smallest values of the drawn parameters, in name order.
    public var minimumValues: [Int] { drawn.keys.sorted().map { drawn[$0]!.minimum } }

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
        return layers.reduce(0) { total, layer in total + LayerTiming.of(layer, array: array, buffer: buffer).reduce(0) { $0 + $1.totalCycles } }
    }
}
