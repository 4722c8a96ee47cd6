/// Expected per-request behaviour of a workflow, computed analytically from its graph: how often
/// each block runs (branch probabilities × loop trip counts × fan-out counts), per phase, and the
/// expected PE-array work. Timing-mode runs converge to these numbers; tests check that they do.
public struct WorkflowAnalysis: Sendable {
    /// Expected runs of each block per request, `visits[phase][block]`.
    public let visits: [[Double]]
    public let graph: WorkflowGraph

    public init(_ graph: WorkflowGraph) {
        self.graph = graph
        let structure = WorkflowStructure(graph)
        visits = graph.phases.phases.indices.map {
            WorkflowAnalysis.expectedVisits(graph, structure: structure, phase: $0)
        }
    }

    /// Expected body runs per entry into a loop in `phase`.
    public static func expectedTrips(_ bound: LoopBound, max: Int, phase: Int) -> Double {
        switch bound {
        case .trips(let distribution):
            return distribution[phase].probabilities.reduce(0) {
                $0 + Double(Swift.min($1.value, max)) * $1.probability
            }
        case .continueProbability(let p):
            // Body run k happens when the first k draws all continue: Σ_{k=1..max} p^k.
            var total = 0.0
            var term = 1.0
            for _ in 0..<max {
                term *= p[phase]
                total += term
            }
            return total
        }
    }

    static func expectedVisits(_ graph: WorkflowGraph, structure: WorkflowStructure, phase: Int) -> [Double] {
        let n = graph.blocks.count
        // Topological order of the graph without loop back edges (validation guarantees a DAG).
        var indegree = [Int](repeating: 0, count: n)
        var edges = [[Int]](repeating: [], count: n)
        for (b, block) in graph.blocks.enumerated() {
            for case .block(let next) in block.successors where !structure.isBackEdge(from: b, to: next) {
                edges[b].append(next)
                indegree[next] += 1
            }
        }
        var order: [Int] = []
        var ready = (0..<n).filter { indegree[$0] == 0 }
        while let b = ready.popLast() {
            order.append(b)
            for next in edges[b] {
                indegree[next] -= 1
                if indegree[next] == 0 { ready.append(next) }
            }
        }

        var inflow = [Double](repeating: 0, count: n)
        var fires = [Double](repeating: 0, count: n)  // join firings, from their owners
        var visits = [Double](repeating: 0, count: n)
        inflow[graph.entry] = 1
        func send(_ successor: Successor, _ amount: Double) {
            if case .block(let b) = successor { inflow[b] += amount }
        }
        for b in order {
            let v = inflow[b]
            switch graph.blocks[b].kind {
            case .task(let task):
                visits[b] = v
                send(task.next, v)
            case .control(let control):
                switch control {
                case .branch(let decision, let then, let otherwise):
                    visits[b] = v
                    let p = decision.probability[phase]
                    send(then, v * p)
                    send(otherwise, v * (1 - p))
                case .exit(let decision, let otherwise):
                    visits[b] = v
                    let p = decision.probability[phase]
                    if let fanout = structure.enclosingFanout(of: b),
                        let join = WorkflowStructure.join(of: fanout, in: graph)
                    {
                        inflow[join] += v * p
                    }
                    send(otherwise, v * (1 - p))
                case .loop(let body, let exit, let bound, _, let maximum):
                    let trips = expectedTrips(bound, max: maximum, phase: phase)
                    visits[b] = v * (1 + trips)
                    inflow[body] += v * trips
                    send(exit, v)
                case .forEach(let body, let join, let count, _):
                    visits[b] = v
                    let distribution = count[phase]
                    let none = distribution.probabilities.first { $0.value == 0 }?.probability ?? 0
                    inflow[body] += v * distribution.mean
                    fires[join] += v * (1 - none)
                    if case .control(.join(_, let next)) = graph.blocks[join].kind { send(next, v * none) }
                case .parallel(let branches, let join):
                    visits[b] = v
                    for branch in branches { inflow[branch] += v }
                    fires[join] += v
                case .join(_, let next):
                    visits[b] = v
                    send(next, fires[b])
                }
            }
        }
        return visits
    }

    /// Expected cycles of one run of each task block on `array` fed from `buffer` (0 for control
    /// blocks): exact over the shape distributions when they have at most `exactLimit`
    /// combinations, otherwise the mean of that many seeded samples.
    public func expectedCycles(
        on array: PEArrayConfig, buffer: LayerTiming.ClusterBuffer?, phase: Int, exactLimit: Int = 2048
    ) -> [Double] {
        graph.blocks.map { block in
            guard case .task(let task) = block.kind else { return 0 }
            return task.operations.reduce(0.0) { total, operation in
                guard case .model(let model) = operation else {
                    return total + Double(operation.cycles(on: array, buffer: buffer))
                }
                return total
                    + WorkflowAnalysis.expectedCycles(
                        of: model, on: array, buffer: buffer, phase: phase, exactLimit: exactLimit)
            }
        }
    }

    static func expectedCycles(
        of model: DynamicModel, on array: PEArrayConfig, buffer: LayerTiming.ClusterBuffer?, phase: Int, exactLimit: Int
    ) -> Double {
        // Layers that do not depend on the drawn values are timed once; identical dependent rows
        // (a decoder's heads) once per group — the same sum as timing the expanded table.
        let names = model.drawn.keys.sorted()
        let timing = { (layer: Layer) -> Cycle in
            LayerTiming.totalCycles(of: layer, array: array, buffer: buffer)
        }
        let groups = try? model.table.groups(overrides: model.fixed, varying: Set(names))
        let fixed = groups?.fixed.reduce(Cycle(0)) { $0 + timing($1) } ?? 0
        func cycles(_ values: [Int]) -> Cycle {
            guard let groups else { return model.cycles(values: values, array: array, buffer: buffer) }
            var parameters = model.fixed
            for (name, value) in zip(names, values) { parameters[name] = value }
            return groups.varying.reduce(fixed) { total, group in
                guard let layer = try? model.table.layer(row: group.row, parameters) else { return total }
                return total + Cycle(group.count) * timing(layer)
            }
        }
        let distributions = names.map { model.drawn[$0]![phase].probabilities }
        let combinations = distributions.reduce(1) { $0 * $1.count }
        if combinations <= exactLimit {
            var total = 0.0
            func walk(_ index: Int, _ values: [Int], _ probability: Double) {
                guard index < distributions.count else {
                    total += probability * Double(cycles(values))
                    return
                }
                for (value, p) in distributions[index] where p > 0 {
                    walk(index + 1, values + [value], probability * p)
                }
            }
            walk(0, [], 1)
            return total
        }
        var rng = SplitMix64(keys: StreamPurpose.analysis.rawValue, UInt64(phase))
        var total = 0.0
        for _ in 0..<exactLimit {
            total += Double(cycles(model.sample(&rng, phase: phase)))
        }
        return total / Double(exactLimit)
    }

    /// Expected task blocks run per request in `phase`.
    public func expectedTaskBlocks(phase: Int) -> Double {
        zip(graph.blocks, visits[phase]).reduce(0) { $0 + ($1.0.isTask ? $1.1 : 0) }
    }

    /// Expected PE-array cycles of task blocks per request in `phase`.
    public func expectedWork(on array: PEArrayConfig, buffer: LayerTiming.ClusterBuffer?, phase: Int) -> Double {
        zip(visits[phase], expectedCycles(on: array, buffer: buffer, phase: phase)).reduce(0) { $0 + $1.0 * $1.1 }
    }
}
