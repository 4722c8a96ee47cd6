import WaferModel

/// A numeric parameter of a registered scheduler (`--scheduler name:key=value`).
public struct SchedulerParameter: Sendable {
    public var name: String
    /// One line for `--help` and errors.
    public var help: String
    public var defaultValue: Double
    /// Whole numbers only (cycles, counts).
    public var integer: Bool
    /// Smallest and largest accepted values.
    public var range: ClosedRange<Double>
    /// Left out of the scheduler's text form at its default (a parameter added to a scheduler
    /// whose name runs already used: their text, and so their results, stay as they were).
    public var hiddenAtDefault: Bool

    public init(
        name: String, help: String, defaultValue: Double, integer: Bool = true, range: ClosedRange<Double> = 1...1e15,
        hiddenAtDefault: Bool = false
    ) {
        self.name = name
        self.help = help
        self.defaultValue = defaultValue
        self.integer = integer
        self.range = range
        self.hiddenAtDefault = hiddenAtDefault
    }

    /// `value` as the text form writes it.
    public func text(_ value: Double) -> String { integer ? String(Int64(value)) : String(value) }
}

/// Parameter values handed to a definition's `make`.
public struct SchedulerParameterValues: Sendable {
    public let values: [String: Double]

    /// The value of integer parameter `name` (its default when not given).
    public func int(_ name: String) -> Int { Int(values[name] ?? 0) }
    /// The value of parameter `name`.
    public func double(_ name: String) -> Double { values[name] ?? 0 }
}

/// What `octopus compare` does with a scheduler.
public struct ComparisonRole: Sendable {
    /// A baseline Octopus is compared with (a column of the speedup tables).
    public var baseline: Bool
    /// For a baseline with parameters: the settings tried on every workload and size; the one
    /// with the best p99 latency is reported (an honestly tuned baseline).
    public var sweep: [[String: Double]]
    /// Position on the ablation ladder (0: the base it starts from; the highest: the scheduler
    /// under test, whose speedups are reported).
    public var ablationStep: Int?
    /// What the step adds to the one before (for reports), e.g. "adaptive".
    public var adds: String?
    /// An ideal reference of the scheduler under test (it knows what no scheduler can): run in
    /// every cell and reported beside the ablation ladder, so the report says how far the real
    /// scheduler is from it. The text says what it knows, e.g. "perfect prediction".
    public var ideal: String?

    public init(
        baseline: Bool = false, sweep: [[String: Double]] = [], ablationStep: Int? = nil, adds: String? = nil,
        ideal: String? = nil
    ) {
        self.baseline = baseline
        self.sweep = sweep
        self.ablationStep = ablationStep
        self.adds = adds
        self.ideal = ideal
    }

    /// Not part of the comparison.
    public static let none = ComparisonRole()
}

/// One scheduler as it is registered: its name, parameters and help line, its role in
/// comparisons, and how to build it from parameter values. A scheduler is defined in one file
/// (see `Sources/Scheduling/Schedulers/`) and registered by one line in
/// ``SchedulerRegistry/standard``.
public struct SchedulerDefinition: Sendable {
    public var name: String
    /// One line for `--help`.
    public var summary: String
    public var parameters: [SchedulerParameter]
    public var comparison: ComparisonRole
    public var make: @Sendable (SchedulerParameterValues) -> Scheduler

    public init(
        name: String, summary: String, parameters: [SchedulerParameter] = [], comparison: ComparisonRole = .none,
        make: @escaping @Sendable (SchedulerParameterValues) -> Scheduler
    ) {
        self.name = name
        self.summary = summary
        self.parameters = parameters
        self.comparison = comparison
        self.make = make
    }
}

/// Schedulers by name. `--scheduler`, the ablation ladder, `octopus compare`'s baselines and
/// report columns, and the cluster processes (which rebuild the coordinator's scheduler from its
/// text form) all look schedulers up here.
public struct SchedulerRegistry: Sendable {
    public private(set) var definitions: [SchedulerDefinition]

    public init(_ definitions: [SchedulerDefinition]) {
        self.definitions = []
        for definition in definitions { register(definition) }
    }

    /// The built-in schedulers, in the order reports list them. Add a scheduler with one line here.
    public static let standard = SchedulerRegistry([
        StaticScheduler.definition,
        ReactiveScheduler.definition,
        FIFOScheduler.definition,
        ScoreScheduler.definition,
        LeastLoadedScheduler.definition,
        OctopusLadder.dual,
        OctopusLadder.dualAdaptive,
        OctopusLadder.dualAdaptiveProactive,
        OctopusLadder.octopus,
        OctopusLadder.clairvoyant,
    ])

    /// Adds `definition`; a name may be registered once.
    public mutating func register(_ definition: SchedulerDefinition) {
        precondition(
            !definition.name.isEmpty && !definition.name.contains(":") && !definition.name.contains(","),
            "a scheduler name is not empty and has no ':' or ','")
        precondition(
            self.definition(named: definition.name) == nil, "scheduler '\(definition.name)' is registered twice")
        definitions.append(definition)
    }

    /// This registry with `definition` added.
    public func adding(_ definition: SchedulerDefinition) -> SchedulerRegistry {
        var copy = self
        copy.register(definition)
        return copy
    }

    /// Registered names, in registration order.
    public var names: [String] { definitions.map(\.name) }

    public func definition(named name: String) -> SchedulerDefinition? { definitions.first { $0.name == name } }

    /// The baselines of comparisons, in registration order.
    public var baselines: [SchedulerDefinition] { definitions.filter(\.comparison.baseline) }

    /// The ideal references of the scheduler under test, in registration order.
    public var ideals: [SchedulerDefinition] { definitions.filter { $0.comparison.ideal != nil } }

    /// The ablation ladder, from its base to the scheduler under test.
    public var ablationLadder: [SchedulerDefinition] {
        definitions.filter { $0.comparison.ablationStep != nil }.sorted {
            $0.comparison.ablationStep! < $1.comparison.ablationStep!
        }
    }

    /// A scheduler's text form could not be read.
    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Builds the scheduler `text` names: `name` or `name:key=value,…` (numbers may contain `_`).
    public func scheduler(_ text: String) throws -> Scheduler {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let definition = definition(named: parts[0]) else {
            throw ParseError(description: "unknown scheduler '\(text)' (known: \(names.joined(separator: ", ")))")
        }
        var given: [String: Double] = [:]
        if parts.count == 2 {
            guard !definition.parameters.isEmpty else {
                throw ParseError(
                    description: "scheduler '\(definition.name)' takes no parameters (found '\(parts[1])')")
            }
            for pair in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard kv.count == 2 else {
                    throw ParseError(
                        description: "scheduler parameter '\(pair)' of '\(definition.name)' needs a value: key=value")
                }
                guard let parameter = definition.parameters.first(where: { $0.name == kv[0] }) else {
                    let known = definition.parameters.map(\.name).joined(separator: ", ")
                    throw ParseError(
                        description:
                            "unknown parameter '\(kv.first ?? String(pair))' of scheduler '\(definition.name)' (known: \(known))"
                    )
                }
                given[parameter.name] = try value(kv[1], of: parameter, in: definition)
            }
        }
        return try scheduler(definition.name, given)
    }

    /// Scheduler `text` with `defaults` (parameter name → value text) for those of its
    /// parameters that `text` does not set; defaults it has no parameter for are ignored (so one
    /// set of defaults — a planning period, say — serves every scheduler of a comparison).
    public func scheduler(_ text: String, defaults: [String: String]) throws -> Scheduler {
        guard !defaults.isEmpty else { return try scheduler(text) }
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let definition = definition(named: parts[0]) else { return try scheduler(text) }
        let pairs = parts.count == 2 ? parts[1].split(separator: ",").map(String.init) : []
        let given = Set(pairs.map { String($0.prefix { $0 != "=" }) })
        let added = definition.parameters.map(\.name).filter { defaults[$0] != nil && !given.contains($0) }
            .map { "\($0)=\(defaults[$0]!)" }
        let all = pairs + added
        return try scheduler(all.isEmpty ? definition.name : definition.name + ":" + all.joined(separator: ","))
    }

    /// Builds scheduler `name` with `values` for some of its parameters (the others take their defaults).
    public func scheduler(_ name: String, _ values: [String: Double]) throws -> Scheduler {
        guard let definition = definition(named: name) else {
            throw ParseError(description: "unknown scheduler '\(name)' (known: \(names.joined(separator: ", ")))")
        }
        var all: [String: Double] = [:]
        for parameter in definition.parameters {
            all[parameter.name] = values[parameter.name] ?? parameter.defaultValue
        }
        if let unknown = values.keys.sorted().first(where: { all[$0] == nil }) {
            throw ParseError(description: "unknown parameter '\(unknown)' of scheduler '\(name)'")
        }
        var scheduler = definition.make(SchedulerParameterValues(values: all))
        scheduler.name = definition.name
        scheduler.parameters = definition.parameters.filter { !$0.hiddenAtDefault || all[$0.name]! != $0.defaultValue }
            .map { ($0.name, $0.text(all[$0.name]!)) }
        return scheduler
    }

    private func value(_ text: String, of parameter: SchedulerParameter, in definition: SchedulerDefinition) throws
        -> Double
    {
        let cleaned = text.replacingOccurrences(of: "_", with: "")
        let number: Double? =
            parameter.integer ? Int64(cleaned).map(Double.init) : Double(cleaned).flatMap { $0.isFinite ? $0 : nil }
        guard let number, parameter.range.contains(number) else {
            let kind = parameter.integer ? "a whole number" : "a number"
            throw ParseError(
                description:
                    "scheduler parameter '\(parameter.name)=\(text)' of '\(definition.name)' must be \(kind) in "
                    + "\(parameter.text(parameter.range.lowerBound))...\(parameter.text(parameter.range.upperBound)) (\(parameter.help))"
            )
        }
        return number
    }

    /// The text forms of a swept baseline's settings (``ComparisonRole/sweep``), in order.
    public func sweepTexts(of definition: SchedulerDefinition) -> [String] {
        definition.comparison.sweep.compactMap { try? scheduler(definition.name, $0).description }
    }

    /// One line per scheduler for `--help`: name, parameters with defaults, summary.
    public var helpLines: [String] {
        definitions.map { definition in
            let parameters = definition.parameters.map { "\($0.name)=\($0.text($0.defaultValue))" }.joined(
                separator: ",")
            return (parameters.isEmpty ? definition.name : "\(definition.name)[:\(parameters)]") + " — "
                + definition.summary
        }
    }
}
