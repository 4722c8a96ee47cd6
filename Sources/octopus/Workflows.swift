import ArgumentParser
import Foundation
import WaferModel

/// Where workflow commands find workflows, and how they resolve a name or a file.
struct WorkflowSource: ParsableArguments {
    @Option(help: "Directory of workflow files (the suite).")
    var workflows = "Configs/workflows"

    @Option(
        help:
            "Directory of model tables for `model:` operations (default: the topologies folder beside the workflow's folder)."
    )
    var topologies: String?

    func library() throws -> WorkflowLibrary { try WorkflowLibrary.load(directory: workflows, topologies: topologies) }

    /// A workflow by name from the suite, or from a file when `nameOrFile` is a path.
    func graph(_ nameOrFile: String) throws -> WorkflowGraph {
        if nameOrFile.hasSuffix(".yaml") || nameOrFile.hasSuffix(".yml") || nameOrFile.contains("/") {
            let beside =
                (((nameOrFile as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent as NSString)
                .appendingPathComponent("topologies")
            return try WorkflowLoader.load(path: nameOrFile, topologies: topologies ?? beside)
        }
        let library = try library()
        guard let index = library.index(of: nameOrFile) else {
            throw ValidationError(
                "no workflow '\(nameOrFile)' in \(workflows) (known: \(library.names.joined(separator: ", ")))")
        }
        return library[index]
    }
}

struct Workflows: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workflows",
        abstract: "List the workflow suite, or show one workflow's blocks, flows and expected work.",
        discussion: """
            Expected runs per request are computed analytically from the graph (branch probabilities × \
            loop trip counts × for-each counts), per phase; expected cycles use the wafer's PE array.
            """,
        subcommands: [List.self, Show.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List the workflows with their expected work per request.")
        @OptionGroup var source: WorkflowSource
        @Option(help: "Wafer whose PE array times the expected work.") var wafer = "Configs/wafers/default.yaml"

        func run() throws {
            do {
                let library = try source.library()
                let config = try WaferConfigLoader.load(path: wafer)
                print(
                    pad("workflow", 22) + pad("blocks", 8) + pad("phases", 20) + pad("task blocks/req", 17)
                        + pad("Mcycles/req", 13) + "description")
                for graph in library.workflows {
                    let analysis = WorkflowAnalysis(graph)
                    let phases = graph.phases.phases.count
                    let blocks = (0..<phases).map {
                        WorkflowDOT.format(round(analysis.expectedTaskBlocks(phase: $0) * 100) / 100)
                    }.joined(separator: "/")
                    let work = (0..<phases).map {
                        String(
                            format: "%.2f",
                            analysis.expectedWork(on: config.cluster.peArray, buffer: config.cluster.buffer, phase: $0)
                                / 1e6)
                    }.joined(separator: "/")
                    print(
                        pad(graph.name, 22) + pad(String(graph.blocks.count), 8)
                            + pad(phases == 1 ? "-" : graph.phases.names.joined(separator: "/"), 20)
                            + pad(blocks, 17) + pad(work, 13) + graph.description)
                }
            } catch let error as ConfigError {
                exitReporting(error)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show a workflow's blocks, task flows, phases and expected runs and cycles per request.")
        @Argument(help: "Workflow name (from the suite) or file.") var workflow: String
        @OptionGroup var source: WorkflowSource
        @Option(help: "Wafer whose PE array times the expected work.") var wafer = "Configs/wafers/default.yaml"

        func run() throws {
            do {
                let graph = try source.graph(workflow)
                let config = try WaferConfigLoader.load(path: wafer)
                print(WorkflowReport.text(graph, config: config))
            } catch let error as ConfigError {
                exitReporting(error)
            }
        }
    }
}

struct Graph: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Print a workflow's Orchestrated Workflow Graph as Graphviz DOT.",
        discussion: "Example: octopus graph video-analytics | dot -Tsvg > video-analytics.svg")
    @Argument(help: "Workflow name (from the suite) or file.") var workflow: String
    // DOT is the only format; the flag is still accepted so older scripts keep working.
    @Flag(help: .hidden) var dot = false
    @Flag(help: "Label blocks with their expected runs per request (per phase).") var expected = false
    @OptionGroup var source: WorkflowSource

    func run() throws {
        do {
            let graph = try source.graph(workflow)
            print(WorkflowDOT.render(graph, analysis: expected ? WorkflowAnalysis(graph) : nil), terminator: "")
        } catch let error as ConfigError {
            exitReporting(error)
        }
    }
}

func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
}

/// The human description of one workflow for `octopus workflows show`.
enum WorkflowReport {
    static func text(_ graph: WorkflowGraph, config: WaferConfig) -> String {
        let analysis = WorkflowAnalysis(graph)
        let structure = WorkflowStructure(graph)
        let phases = graph.phases.phases
        var out: [String] = []
        out.append("\(graph.name): \(graph.description)")
        out.append(
            "input: \(graph.input?.description ?? "\(graph.inputBytes) bytes")"
                + (graph.generator.map { g -> String in
                    if case .scene = g {
                        return " · functional input: scene generator"
                    } else {
                        return " · functional input: random"
                    }
                } ?? ""))
        if let deadline = graph.deadlineCycles {
            out.append(
                "deadline: \(deadline) cycles after arrival (\(String(format: "%.1f", config.microseconds(deadline))) µs)"
            )
        }
        if phases.count > 1 {
            let schedule = phases.map {
                "\($0.name)" + ($0.durationCycles.map { " \($0) cycles" } ?? " (then forever)")
            }
            out.append("phases: " + schedule.joined(separator: " → ") + (graph.phases.repeats ? " → repeat" : ""))
        }
        out.append("")
        out.append(
            "blocks (expected runs per request\(phases.count > 1 ? ", by phase " + graph.phases.names.joined(separator: "/") : "")):"
        )
        let cycles = phases.indices.map {
            analysis.expectedCycles(on: config.cluster.peArray, buffer: config.cluster.buffer, phase: $0)
        }
        for (index, block) in graph.blocks.enumerated() {
            let runs = phases.indices.map { WorkflowDOT.format((analysis.visits[$0][index] * 1000).rounded() / 1000) }
                .joined(separator: "/")
            var detail: String
            switch block.kind {
            case .task(let task):
                let perRun = phases.indices.map { String(format: "%.0f", cycles[$0][index]) }.joined(separator: "/")
                detail =
                    "task, \(task.operations.count) ops, \(perRun) cycles/run"
                    + (task.isDynamic ? " (shapes drawn per request)" : "")
                if let f = task.function { detail += ", functional: \(f.keyword)" }
            case .control(let control):
                detail = control.keyword
                switch control {
                case .branch(let d, _, _), .exit(let d, _):
                    detail +=
                        " p=" + d.probability.values.map { WorkflowDOT.format($0) }.joined(separator: "/")
                        + (d.predicate.map { ", when \($0)" } ?? "")
                case .loop(_, _, let bound, let until, let maximum):
                    let trips = phases.indices.map {
                        WorkflowDOT.format(
                            (WorkflowAnalysis.expectedTrips(bound, max: maximum, phase: $0) * 100).rounded() / 100)
                    }
                    detail +=
                        " ≤ \(maximum), mean trips " + trips.joined(separator: "/")
                        + (until.map { ", until \($0)" } ?? "")
                case .forEach(_, _, let count, let countFrom):
                    detail +=
                        " mean items "
                        + count.values.map { WorkflowDOT.format(($0.mean * 100).rounded() / 100) }.joined(
                            separator: "/") + (countFrom.map { ", functional: \($0)" } ?? "")
                case .join(let mode, _): detail += " \(mode.rawValue)"
                default: break
                }
            }
            out.append("  " + pad(block.name, 20) + pad("× " + runs, 18) + detail)
        }
        out.append("")
        out.append("task flows:")
        for (index, block) in graph.blocks.enumerated() {
            for case .block(let next) in block.successors {
                var data = ""
                if case .task(let task) = block.kind { data = task.output?.description ?? "\(task.outputBytes) B" }
                let back = structure.isBackEdge(from: index, to: next) ? " (loop back edge)" : ""
                out.append("  \(block.name) → \(graph.blocks[next].name)" + (data.isEmpty ? "" : "  [\(data)]") + back)
            }
        }
        out.append("")
        for phase in phases.indices {
            let name = phases.count > 1 ? " (\(phases[phase].name))" : ""
            let work = analysis.expectedWork(on: config.cluster.peArray, buffer: config.cluster.buffer, phase: phase)
            out.append(
                String(
                    format:
                        "expected per request%@: %.2f task blocks, %.0f PE-array cycles (%.1f µs on one %d×%d TBU of %@)",
                    name, analysis.expectedTaskBlocks(phase: phase), work, config.microseconds(Cycle(work)),
                    config.cluster.peArray.rows, config.cluster.peArray.columns, config.name))
        }
        return out.joined(separator: "\n")
    }
}
