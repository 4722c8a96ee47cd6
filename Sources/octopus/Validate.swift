import ArgumentParser
import Foundation
import WaferModel

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check wafer, workflow and workload files; print every problem with file, line and field.",
        discussion:
            "The kind of each file is taken from its folder (wafers/, workflows/, workloads/) or, failing that, from its top-level fields."
    )

    @Argument(help: "Files to check.") var files: [String]

    @Option(
        help:
            "Workflow directory that workloads may refer to (default: the one a workload names in `workflows:`, else Configs/workflows)."
    ) var workflows: String?

    @Option(
        help:
            "Directory of model tables for `model:` operations (default: the topologies folder beside the workflow's folder)."
    ) var topologies: String?

    func run() throws {
        var failures = 0
        let standard = try? WorkflowLibrary.load(directory: workflows ?? "Configs/workflows")
        for file in files {
            do {
                let kind = try kindOf(file)
                switch kind {
                case "wafer": _ = try WaferConfigLoader.load(path: file)
                case "workflow":
                    let beside =
                        (((file as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
                        as NSString).appendingPathComponent("topologies")
                    _ = try WorkflowLoader.loadAll(path: file, topologies: topologies ?? beside)
                default:
                    // A workload's own `workflows:` directory, unless --workflows overrides it.
                    var library = standard
                    if workflows == nil, let own = try WorkloadLoader.workflowDirectory(path: file) {
                        library = try WorkflowLibrary.load(directory: own)
                    }
                    if let library {
                        _ = try WorkloadLoader.load(path: file, library: library)
                    } else {
                        _ = try WorkloadLoader.load(path: file, known: [])
                    }
                }
                print("ok: \(file) (\(kind))")
            } catch {
                failures += 1
                print("error: \(error)")
            }
        }
        // Exit code 2: bad input, as for every other command.
        if failures > 0 { throw ExitCode(2) }
    }

    private func kindOf(_ file: String) throws -> String {
        // A missing, empty, directory or non-UTF-8 path is named as such before guessing its kind.
        let text = try ConfigNode.readText(path: file)
        for (folder, kind) in [("wafers/", "wafer"), ("workflows/", "workflow"), ("workloads/", "workload")]
        where file.contains(folder) {
            return kind
        }
        // By the top-level keys when the file parses (JSON too: a run's wafer.json), else by
        // the text, so that the loader then names what does not parse.
        if let top = try? ConfigNode.parse(text, file: file).mapping() {
            if top.has("mesh") { return "wafer" }
            // (A workload may name its workflows' directory under `workflows`: injections first.)
            if top.has("injections") { return "workload" }
            if top.has("blocks") || top.has("workflows") { return "workflow" }
        }
        if text.contains("mesh:") { return "wafer" }
        if text.contains("blocks:") { return "workflow" }
        if text.contains("injections:") { return "workload" }
        throw ConfigError(
            file: file, line: nil, field: "", message: "cannot tell whether this is a wafer, workflow or workload file")
    }
}
