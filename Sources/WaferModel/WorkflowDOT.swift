import Foundation

/// Renders an Orchestrated Workflow Graph as Graphviz DOT: task blocks as boxes, control blocks
/// as shapes by kind, task flows labelled with their data, loop back edges dashed.
public enum WorkflowDOT {
    public static func render(_ graph: WorkflowGraph, analysis: WorkflowAnalysis? = nil) -> String {
        let structure = WorkflowStructure(graph)
        func quote(_ s: String) -> String {
            // Labels keep their `\n` line breaks; only quotes need escaping.
            "\"" + s.replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        func phased(_ p: Phased<Double>) -> String {
            p.isConstant
                ? format(p[0]) : zip(graph.phases.names, p.values).map { "\($0) \(format($1))" }.joined(separator: ", ")
        }
        var lines = [
            "digraph \(quote(graph.name)) {",
            "  rankdir=TB;",
            "  node [fontname=\"Helvetica\", fontsize=11];",
            "  edge [fontname=\"Helvetica\", fontsize=9];",
            "  start [shape=point, width=0.15];",
            "  end [shape=doublecircle, label=\"end\", width=0.3];",
        ]
        for (index, block) in graph.blocks.enumerated() {
            var label = block.name
            let attributes: String
            switch block.kind {
            case .task(let task):
                let models = Set(
                    task.operations.compactMap { op -> String? in
                        if case .model(let m) = op { return m.name }
                        return nil
                    })
                label += "\\n\(task.operations.count) op\(task.operations.count == 1 ? "" : "s")"
                if !models.isEmpty { label += " · " + models.sorted().joined(separator: ", ") }
                attributes = "shape=box, style=\"rounded,filled\", fillcolor=\"#dbe9f6\""
            case .control(let control):
                switch control {
                case .branch: attributes = "shape=diamond"
                case .exit(let d, _):
                    label += "\\nexit p=\(phased(d.probability))"
                    attributes = "shape=octagon"
                case .loop(_, _, _, _, let maximum):
                    label += "\\nloop ≤ \(maximum)"
                    attributes = "shape=ellipse, style=filled, fillcolor=\"#fdf0d5\""
                case .forEach:
                    label += "\\nfor each"
                    attributes = "shape=trapezium"
                case .parallel:
                    label += "\\nparallel"
                    attributes = "shape=trapezium"
                case .join(let mode, _):
                    label += "\\njoin \(mode.rawValue)"
                    attributes = "shape=invtrapezium"
                }
            }
            if let analysis {
                let runs = analysis.visits.map { format($0[index]) }
                label += "\\n× " + runs.joined(separator: " / ")
            }
            lines.append("  b\(index) [label=\(quote(label)), \(attributes)];")
        }
        lines.append("  start -> b\(graph.entry)\(graph.input.map { " [label=\(quote($0.description))]" } ?? "");")
        func target(_ s: Successor) -> String {
            if case .block(let b) = s { return "b\(b)" }
            return "end"
        }
        func edge(_ from: Int, _ to: Successor, _ label: String?, dashed: Bool = false) {
            var attributes: [String] = []
            if let label, !label.isEmpty { attributes.append("label=\(quote(label))") }
            if case .block(let b) = to, structure.isBackEdge(from: from, to: b) || dashed {
                attributes.append("style=dashed")
            }
            lines.append(
                "  b\(from) -> \(target(to))\(attributes.isEmpty ? "" : " [" + attributes.joined(separator: ", ") + "]");"
            )
        }
        for (index, block) in graph.blocks.enumerated() {
            switch block.kind {
            case .task(let task):
                edge(
                    index, task.next, task.output?.description ?? (task.outputBytes > 0 ? "\(task.outputBytes) B" : nil)
                )
            case .control(let control):
                switch control {
                case .branch(let d, let then, let otherwise):
                    let p = d.probability
                    let yes = d.predicate.map { "\($0) / p=\(phased(p))" } ?? "p=\(phased(p))"
                    edge(index, then, yes)
                    edge(index, otherwise, "else")
                case .exit(_, let otherwise):
                    if let fanout = structure.enclosingFanout(of: index),
                        let join = WorkflowStructure.join(of: fanout, in: graph)
                    {
                        edge(index, .block(join), "exit item", dashed: true)
                    } else {
                        edge(index, .end, "exit", dashed: true)
                    }
                    edge(index, otherwise, "continue")
                case .loop(let body, let exit, _, let until, _):
                    edge(index, .block(body), "again" + (until.map { " until \($0)" } ?? ""))
                    edge(index, exit, "done")
                case .forEach(let body, let join, let count, let countFrom):
                    let counts = count.values.map { format($0.mean) }.joined(separator: " / ")
                    edge(index, .block(body), "each item (mean \(counts))" + (countFrom.map { "; \($0)" } ?? ""))
                    edge(index, .block(join), "no items", dashed: true)
                case .parallel(let branches, _):
                    for branch in branches { edge(index, .block(branch), nil) }
                case .join(_, let next):
                    edge(index, next, nil)
                }
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A number for people: integers plain, others with up to three decimals.
    public static func format(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e9 { return String(Int(value)) }
        let text = String(format: "%.3f", value)
        return text.contains(".") ? String(text.reversed().drop { $0 == "0" }.reversed()) : text
    }
}
