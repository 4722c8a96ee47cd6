import Foundation

/// The workflows a wafer knows, indexed in a fixed (name-sorted) order so indices mean the same
/// thing in every process.
public struct WorkflowLibrary: Codable, Equatable, Sendable {
    public private(set) var workflows: [WorkflowGraph]

    public init(_ workflows: [WorkflowGraph]) {
        self.workflows = workflows.sorted { $0.name < $1.name }
    }

    /// Loads every `*.yaml` file of a directory; two files defining one name is an error. `model:`
    /// operations find their tables in `topologies` (default: the `topologies` directory beside
    /// `directory`, e.g. `Configs/topologies` for `Configs/workflows`).
    public static func load(directory: String, topologies: String? = nil) throws -> WorkflowLibrary {
        let tableDirectory =
            topologies
            ?? ((directory as NSString).deletingLastPathComponent as NSString).appendingPathComponent("topologies")
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        } catch {
            throw ConfigError(file: directory, line: nil, field: "", message: "cannot list the workflow directory")
        }
        var graphs: [WorkflowGraph] = []
        var seen: [String: String] = [:]
        for file in files {
            let path = (directory as NSString).appendingPathComponent(file)
            for graph in try WorkflowLoader.loadAll(path: path, topologies: tableDirectory) {
                if let other = seen[graph.name] {
                    throw ConfigError(
                        file: path, line: nil, field: "name",
                        message: "workflow '\(graph.name)' is also defined in \(other)")
                }
                seen[graph.name] = path
                graphs.append(graph)
            }
        }
        return WorkflowLibrary(graphs)
    }

    /// Index of the workflow called `name`.
    public func index(of name: String) -> Int? { workflows.firstIndex { $0.name == name } }

    /// All workflow names.
    public var names: [String] { workflows.map(\.name) }

    /// The workflow at `index`, lent rather than copied: `library[w].blocks[b].isTask` then reads
    /// one field without copying the graph (retaining each of its arrays), which the engines do
    /// for every block they handle.
    @inlinable public subscript(index: Int) -> WorkflowGraph {
        _read { yield workflows[index] }
    }
}
