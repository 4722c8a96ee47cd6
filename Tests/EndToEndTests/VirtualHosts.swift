import Foundation
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Separate "hosts" for multi-host tests: Linux network namespaces, each with its own network
/// stack, joined by veth pairs to a bridge in this (the root) namespace, where the coordinator
/// listens on the bridge's address. Created by the test and removed by `remove()` (also on deinit),
/// with every process still inside a namespace killed first.
///
/// Names carry this process's id (`oct<pid>-…`), so namespaces left by a test process that was
/// itself killed are recognised and removed the next time.
final class VirtualHosts {
    /// Namespace names: the host names given to `--hosts` and `ip netns exec`.
    let names: [String]
    /// Each namespace's address on the bridge.
    let addresses: [String]
    /// The root namespace's address on the bridge: where the coordinator binds.
    let gateway: String
    private let bridge: String
    private let rootLinks: [String]
    private var removed = false

    /// The `ip` tool (iproute2).
    static let ip: String? = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    private static var made = 0

    /// Makes `count` hosts; throws `XCTSkip` (saying why) when namespaces cannot be created here.
    init(count: Int) throws {
        guard Self.ip != nil else { throw XCTSkip("multi-host tests need iproute2's `ip` (apt-get install iproute2)") }
        Self.removeStale()
        let pid = getpid()
        let serial = Self.made
        Self.made += 1
        let prefix = "oct\(pid)"
        bridge = "\(prefix)b\(serial)"
        names = (0..<count).map { "\(prefix)-\(serial)h\($0)" }
        rootLinks = (0..<count).map { "\(prefix)v\(serial)\($0)" }
        let subnet = Self.freeSubnet(seed: Int(pid) &+ serial &* 37)
        gateway = "\(subnet).1"
        addresses = (0..<count).map { "\(subnet).\($0 + 2)" }
        do {
            try Self.ip(["link", "add", bridge, "type", "bridge"])
        } catch {
            throw XCTSkip("cannot create network namespaces here (needs root and iproute2): \(error)")
        }
        do {
            try Self.ip(["addr", "add", "\(gateway)/24", "dev", bridge])
            try Self.ip(["link", "set", bridge, "up"])
            for (index, name) in names.enumerated() {
                let peer = "\(prefix)p\(serial)\(index)"
                try Self.ip(["netns", "add", name])
                try Self.ip(["link", "add", rootLinks[index], "type", "veth", "peer", "name", peer])
                try Self.ip(["link", "set", peer, "netns", name])
                try Self.ip(["link", "set", rootLinks[index], "master", bridge])
                try Self.ip(["link", "set", rootLinks[index], "up"])
                try Self.ip(["-n", name, "addr", "add", "\(addresses[index])/24", "dev", peer])
                try Self.ip(["-n", name, "link", "set", peer, "up"])
                try Self.ip(["-n", name, "link", "set", "lo", "up"])
            }
        } catch {
            remove()
            throw error
        }
    }

    deinit { remove() }

    /// Cuts host `index` off the network (its link goes down).
    func disconnect(_ index: Int) throws {
        try Self.ip(["link", "set", rootLinks[index], "down"])
    }

    /// Processes running inside host `index`.
    func processes(on index: Int) -> [Int32] { Self.processes(inNamespace: names[index]) }

    /// Kills every process inside host `index`.
    func killAll(on index: Int) {
        for pid in processes(on: index) { kill(pid, SIGKILL) }
    }

    /// Kills what still runs inside the namespaces and removes namespaces, links and bridge.
    func remove() {
        guard !removed else { return }
        removed = true
        for name in names { Self.removeNamespace(name) }
        for link in rootLinks { _ = try? Self.ip(["link", "del", link]) }
        _ = try? Self.ip(["link", "del", bridge])
    }

    // MARK: Helpers

    struct CommandFailed: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `ip arguments`; throws with its error output when it fails.
    @discardableResult
    static func ip(_ arguments: [String]) throws -> String {
        guard let ip else { throw CommandFailed(description: "no ip tool") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ip)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let error = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandFailed(description: "ip \(arguments.joined(separator: " ")): \(error)")
        }
        return text
    }

    static func processes(inNamespace name: String) -> [Int32] {
        ((try? ip(["netns", "pids", name])) ?? "").split(whereSeparator: \.isNewline).compactMap { Int32($0) }
    }

    private static func removeNamespace(_ name: String) {
        for _ in 0..<50 {
            let pids = processes(inNamespace: name)
            if pids.isEmpty { break }
            for pid in pids { kill(pid, SIGKILL) }
            usleep(20_000)
        }
        _ = try? ip(["netns", "del", name])
    }

    /// Removes namespaces and bridges of test processes that no longer exist.
    private static func removeStale() {
        let list = (try? ip(["netns", "list"])) ?? ""
        for line in list.split(whereSeparator: \.isNewline) {
            let name = String(line.split(separator: " ").first ?? "")
            guard name.hasPrefix("oct"), let dash = name.firstIndex(of: "-"),
                let owner = Int32(name[name.index(name.startIndex, offsetBy: 3)..<dash]), owner != getpid(),
                kill(owner, 0) != 0, errno == ESRCH
            else { continue }
            removeNamespace(name)
        }
        let links = (try? ip(["-o", "link", "show", "type", "bridge"])) ?? ""
        for line in links.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: ":")
            guard fields.count > 1 else { continue }
            let name = fields[1].trimmingCharacters(in: .whitespaces)
            guard name.hasPrefix("oct"), let b = name.firstIndex(of: "b"),
                let owner = Int32(name[name.index(name.startIndex, offsetBy: 3)..<b]), owner != getpid(),
                kill(owner, 0) != 0, errno == ESRCH
            else { continue }
            _ = try? ip(["link", "del", name])
        }
    }

    /// A 10.213.x.0/24 subnet no interface of this machine uses yet (first three octets).
    private static func freeSubnet(seed: Int) -> String {
        let used = (try? ip(["-4", "-o", "addr", "show"])) ?? ""
        for step in 0..<250 {
            let candidate = "10.213.\((seed + step) % 250 + 1)"
            if !used.contains(candidate + ".") { return candidate }
        }
        return "10.213.251"
    }
}
