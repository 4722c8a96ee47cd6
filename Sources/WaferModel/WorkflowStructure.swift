/// The nesting of a workflow graph's loops and fan-outs, derived from its edges: which blocks form
/// each loop body and each for-each/parallel region, and which fan-out owns each join. Validation,
/// the analytical expectations and the graph renderer share it.
public struct WorkflowStructure: Sendable {
    /// For each loop block: the blocks reachable from its body without passing through it.
    public let loopRegions: [Int: Set<Int>]
    /// For each for-each or parallel block: the blocks its items reach before its join.
    public let fanoutRegions: [Int: Set<Int>]
    /// For each join block: the fan-out blocks that name it.
    public let joinOwners: [Int: [Int]]

    public init(_ graph: WorkflowGraph) {
        func reach(from starts: [Int], stoppingAt stop: Int) -> Set<Int> {
            var seen = Set<Int>()
            var stack = starts.filter { $0 != stop }
            while let b = stack.popLast() {
                guard seen.insert(b).inserted else { continue }
                for case .block(let n) in graph.blocks[b].successors where n != stop && !seen.contains(n) {
                    stack.append(n)
                }
            }
            return seen
        }
        var loops: [Int: Set<Int>] = [:]
        var fanouts: [Int: Set<Int>] = [:]
        var owners: [Int: [Int]] = [:]
        for (index, block) in graph.blocks.enumerated() {
            guard case .control(let control) = block.kind else { continue }
            switch control {
            case .loop(let body, _, _, _, _):
                loops[index] = reach(from: [body], stoppingAt: index)
            case .forEach(let body, let join, _, _):
                fanouts[index] = reach(from: [body], stoppingAt: join)
                owners[join, default: []].append(index)
            case .parallel(let branches, let join):
                fanouts[index] = reach(from: branches, stoppingAt: join)
                owners[join, default: []].append(index)
            default: break
            }
        }
        loopRegions = loops
        fanoutRegions = fanouts
        joinOwners = owners
    }

    /// The innermost fan-out whose region holds `block` (where an exit there sends its item).
    public func enclosingFanout(of block: Int) -> Int? {
        fanoutRegions.filter { $0.value.contains(block) }.min { $0.value.count < $1.value.count }?.key
    }

    /// The join of fan-out block `fanout` in `graph`.
    public static func join(of fanout: Int, in graph: WorkflowGraph) -> Int? {
        guard case .control(let control) = graph.blocks[fanout].kind else { return nil }
        switch control {
        case .forEach(_, let join, _, _), .parallel(_, let join): return join
        default: return nil
        }
    }

    /// True when the edge `from → to` is a loop's back edge (it closes a declared loop).
    public func isBackEdge(from: Int, to: Int) -> Bool {
        loopRegions[to]?.contains(from) ?? false
    }
}
