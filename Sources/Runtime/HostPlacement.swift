import Foundation
import WaferModel

/// Which host runs which cluster, from `--hosts hostA,hostB` (round-robin) or
/// `--hosts hostA:4,hostB:12` (slots: clusters fill each host in turn, in order).
public struct HostPlacement: Equatable, Sendable {
    /// The host of every cluster, by cluster id.
    public let hosts: [String]

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Places `clusters` clusters over the hosts of `text`.
    public init(parsing text: String, clusters: Int) throws {
        var entries: [(name: String, slots: Int?)] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            let name = parts[0].trimmingSpaces()
            guard !name.isEmpty, parts.count <= 2, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) })
            else {
                throw Invalid(
                    description:
                        "--hosts: '\(item)' is not HOST or HOST:SLOTS (host names: letters, digits, '-', '_', '.')")
            }
            var slots: Int?
            if parts.count == 2 {
                // At most as many slots as a wafer can have clusters: more allocated without bound.
                let most = Limits.meshSide.upperBound * Limits.meshSide.upperBound
                guard let count = Int(parts[1]), (1...most).contains(count) else {
                    throw Invalid(
                        description:
                            "--hosts: the slots of '\(name)' must be a whole number ≥ 1 and ≤ \(most), not '\(parts[1])'"
                    )
                }
                slots = count
            }
            entries.append((name, slots))
        }
        guard !entries.isEmpty else { throw Invalid(description: "--hosts: no host given") }
        guard Set(entries.map(\.name)).count == entries.count else {
            throw Invalid(description: "--hosts: a host is listed twice")
        }
        let withSlots = entries.filter { $0.slots != nil }.count
        if withSlots == 0 {
            hosts = (0..<clusters).map { entries[$0 % entries.count].name }
        } else {
            guard withSlots == entries.count else {
                throw Invalid(description: "--hosts: give slots for every host or for none")
            }
            let total = entries.reduce(0) { $0 + $1.slots! }
            guard total >= clusters else {
                throw Invalid(description: "--hosts: \(total) slots for \(clusters) clusters")
            }
            hosts = entries.flatMap { Array(repeating: $0.name, count: $0.slots!) }.prefix(clusters).map { $0 }
        }
    }

    /// Clusters placed on `host`, in id order.
    public func clusters(on host: String) -> [Int] { hosts.indices.filter { hosts[$0] == host } }

    /// One line per host: `hostA: clusters 0, 2, 4`.
    public var description: [String] {
        var seen: [String] = []
        for host in hosts where !seen.contains(host) { seen.append(host) }
        return seen.map { "\($0): clusters \(clusters(on: $0).map(String.init).joined(separator: ", "))" }
    }
}

/// Turns a launch template (`ssh {host} {command}`, `ip netns exec {host} {command}`, …) into the
/// shell command that starts one cluster on its host.
public enum LaunchTemplate {
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Checks that `template` names `{command}`.
    public static func check(_ template: String) throws {
        guard template.contains("{command}") else {
            throw Invalid(description: "--launch: the template must contain {command} (e.g. 'ssh {host} {command}')")
        }
    }

    /// The shell command for `arguments` on `host`: `{host}` and `{id}` substituted as they are,
    /// `{command}` as the shell-quoted argument list.
    public static func expand(_ template: String, host: String, cluster: Int, arguments: [String]) -> String {
        template.replacingOccurrences(of: "{host}", with: host).replacingOccurrences(of: "{id}", with: String(cluster))
            .replacingOccurrences(of: "{command}", with: arguments.map(quote).joined(separator: " "))
    }

    /// `text` as one shell word.
    public static func quote(_ text: String) -> String {
        if !text.isEmpty, text.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:@,+".contains($0) }) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
