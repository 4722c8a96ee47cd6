import CBuildInfo
import Emulation
import WaferModel

/// The octopus build this process runs: the executable's GNU build ID (which the linker derives
/// from the binary's contents, so two builds of different sources differ), its configuration and
/// the window protocol it speaks. Printed by `octopus --version`, recorded in every summary
/// (`host.build`) and sent by each cluster process at registration.
public enum BuildInfo {
    /// The build ID in hex, nil when the executable carries none.
    public static let id: String? = {
        var bytes = [UInt8](repeating: 0, count: 64)
        let length = octopus_build_id(&bytes, bytes.count)
        guard length > 0 else { return nil }
        return bytes[..<length].map { String(format: "%02x", $0) }.joined()
    }()

    /// `release` or `debug`.
    public static var configuration: String {
        #if DEBUG
            return "debug"
        #else
            return "release"
        #endif
    }

    /// This build as a summary records it.
    public static var record: RunSummary.Build {
        RunSummary.Build(id: id, configuration: configuration, wireProtocol: ClusterProtocol.version)
    }

    /// One line for `octopus --version`.
    public static var description: String {
        "octopus build \(id ?? "(no build ID)") (\(configuration), window protocol \(ClusterProtocol.version))"
    }

    /// The clusters whose processes registered with another build than this one, grouped by
    /// build in order of each group's first cluster; nil when every cluster ran this build.
    /// `builds` holds each cluster's registered build ID (nil: unknown) by cluster id.
    static func otherBuilds(_ builds: [String?], this: String? = id) -> [RunSummary.ClusterBuild]? {
        var groups: [RunSummary.ClusterBuild] = []
        for (cluster, build) in builds.enumerated() where build != this {
            if let index = groups.firstIndex(where: { $0.build == build }) {
                groups[index].clusters.append(cluster)
            } else {
                groups.append(RunSummary.ClusterBuild(build: build, clusters: [cluster]))
            }
        }
        return groups.isEmpty ? nil : groups
    }
}

extension RunSummary.Host {
    /// Records what made the run: the command line, this build, the clusters that ran another
    /// (their registered builds by cluster id; empty in one process) and the files read.
    mutating func recordProvenance(commandLine: [String]?, clusterBuilds: [String?], inputs: InputFileLog?) {
        self.commandLine = commandLine
        build = BuildInfo.record
        self.clusterBuilds = BuildInfo.otherBuilds(clusterBuilds)
        self.inputs = inputs?.files
    }
}
