/// Checks the structure and the data of a parsed workflow graph, naming the file, line and field of
/// the offending block: cycles that are not declared loops, loop bodies that do not come back,
/// fan-outs whose items cannot reach their join, joins without a fan-out, unreachable blocks and
/// shape mismatches on task flows.
enum WorkflowValidator {
    typealias BlockNodes = [(node: ConfigNode, fields: ConfigMapping)]

    static func validate(_ graph: WorkflowGraph, blocks nodes: BlockNodes) throws {
        let structure = WorkflowStructure(graph)
        func name(_ b: Int) -> String { graph.blocks[b].name }
        func field(_ b: Int, _ key: String) -> ConfigNode { nodes[b].fields.optional(key) ?? nodes[b].node }

        // Joins belong to exactly one fan-out.
        for (index, block) in graph.blocks.enumerated() {
            guard case .control(let control) = block.kind else { continue }
            switch control {
            case .join:
                let owners = structure.joinOwners[index] ?? []
                if owners.isEmpty {
                    throw field(index, "join").error(
                        "join '\(block.name)' is not the join of any foreach or parallel block")
                }
                if owners.count > 1 {
                    throw field(index, "join").error(
                        "join '\(block.name)' is shared by \(owners.map(name).joined(separator: " and ")); give each fan-out its own join"
                    )
                }
            case .forEach(_, let join, _, _), .parallel(_, let join):
                guard case .control(.join) = graph.blocks[join].kind else {
                    throw field(index, control.keyword).error(
                        "'\(name(join))' is not a join block (write `join: all` or `join: any` there)")
                }
            case .loop(let body, _, _, _, _):
                if body == index { throw field(index, "loop").error("a loop's body cannot be the loop itself") }
            default: break
            }
        }

        // Every cycle closes a declared loop: depth-first search, back edges must target a loop
        // from inside its body. Reachability comes from the same search.
        var colour = [UInt8](repeating: 0, count: graph.blocks.count)  // 0 new, 1 on stack, 2 done
        func visit(_ index: Int) throws {
            colour[index] = 1
            for case .block(let next) in graph.blocks[index].successors {
                if colour[next] == 1 && !structure.isBackEdge(from: index, to: next) {
                    throw nodes[index].node.error(
                        "block '\(name(index))' leads back to '\(name(next))', a cycle that is not a declared loop (use a loop block with 'max')"
                    )
                }
                if colour[next] == 0 { try visit(next) }
            }
            colour[index] = 2
        }
        try visit(graph.entry)
        if let unreachable = colour.firstIndex(of: 0) {
            throw nodes[unreachable].node.error(
                "block '\(name(unreachable))' cannot be reached from the entry block '\(name(graph.entry))'")
        }

        // Loop bodies come back to their loop: no path ends the request or escapes to a join outside.
        for (loop, region) in structure.loopRegions.sorted(by: { $0.key < $1.key }) {
            for b in region.sorted() {
                if graph.blocks[b].successors.contains(.end) && !isItemExit(b, within: region, graph, structure) {
                    throw nodes[b].node.error(
                        "block '\(name(b))' in the body of loop '\(name(loop))' can end the request; every path of a loop body must come back to '\(name(loop))'"
                    )
                }
                if let owners = structure.joinOwners[b], !owners.allSatisfy(region.contains) {
                    throw nodes[b].node.error(
                        "the body of loop '\(name(loop))' reaches join '\(name(b))' of a fan-out outside the loop")
                }
            }
        }

        // Items of a fan-out reach its join: no path ends the request (exits end the item) or
        // enters another fan-out's region from the side.
        for (fanout, region) in structure.fanoutRegions.sorted(by: { $0.key < $1.key }) {
            let join = WorkflowStructure.join(of: fanout, in: graph)!
            if region.contains(fanout) {
                throw nodes[fanout].node.error(
                    "the items of '\(name(fanout))' lead back to it before reaching join '\(name(join))'")
            }
            var reachesJoin = false
            for b in region.sorted() {
                let successors = graph.blocks[b].successors
                if successors.contains(.block(join)) { reachesJoin = true }
                if case .control(.exit) = graph.blocks[b].kind { continue }
                if successors.contains(.end) {
                    throw nodes[b].node.error(
                        "block '\(name(b))' inside '\(name(fanout))' can end the request before join '\(name(join))'; route it to the join (or use an exit block to end the item)"
                    )
                }
                if let owners = structure.joinOwners[b], !owners.allSatisfy(region.contains) {
                    throw nodes[b].node.error(
                        "the items of '\(name(fanout))' reach join '\(name(b))' of another fan-out")
                }
            }
            if !reachesJoin {
                throw nodes[fanout].node.error("no item of '\(name(fanout))' can reach its join '\(name(join))'")
            }
        }

        try checkFlows(graph, structure: structure, nodes: nodes)
    }

    /// An exit block that ends an item of a fan-out nested inside `region` (not the request).
    private static func isItemExit(
        _ b: Int, within region: Set<Int>, _ graph: WorkflowGraph, _ structure: WorkflowStructure
    ) -> Bool {
        guard case .control(.exit) = graph.blocks[b].kind, let fanout = structure.enclosingFanout(of: b) else {
            return false
        }
        return region.contains(fanout)
    }

    /// Propagates declared tensor shapes along the task flows and checks each against what the
    /// receiving task block declares as its input.
    private static func checkFlows(_ graph: WorkflowGraph, structure: WorkflowStructure, nodes: BlockNodes) throws {
        struct Visit: Hashable {
            var block: Int
            var spec: TensorSpec?
        }
        var seen = Set<Visit>()
        // (block, data flowing into it, the block that produced that data)
        var work: [(Int, TensorSpec?, String)] = [(graph.entry, graph.input, "the workflow input")]
        while let (b, incoming, producer) = work.popLast() {
            guard seen.insert(Visit(block: b, spec: incoming)).inserted else { continue }
            let block = graph.blocks[b]
            switch block.kind {
            case .task(let task):
                if let expected = task.input, let incoming, !incoming.fits(expected) {
                    throw (nodes[b].fields.optional("input") ?? nodes[b].node).error(
                        "shape mismatch on the flow into '\(block.name)': \(producer) produces \(incoming), '\(block.name)' expects \(expected)"
                    )
                }
                if case .block(let n) = task.next {
                    work.append((n, task.output ?? (task.operations.isEmpty ? incoming : nil), "'\(block.name)'"))
                }
            case .control(let control):
                switch control {
                case .forEach(let body, let join, _, _):
                    work.append((body, incoming?.row, "an item of '\(block.name)'"))
                    _ = join  // an empty for-each passes nothing to the join
                case .join(_, let next):
                    if case .block(let n) = next {
                        let stacked = incoming.map { TensorSpec(shape: [.symbol("n")] + $0.shape, dtype: $0.dtype) }
                        work.append((n, stacked, "join '\(block.name)'"))
                    }
                default:
                    for case .block(let n) in control.successors { work.append((n, incoming, producer)) }
                }
            }
        }
    }
}
