import Foundation
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The `octopus` executable built beside this test bundle (override with OCTOPUS_BIN; a relative
/// path is taken from the directory the tests start in, as the tests run it from others).
let octopusBinary: String = {
    if let path = ProcessInfo.processInfo.environment["OCTOPUS_BIN"], !path.isEmpty {
        return URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL.path
    }
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    if directory.path.hasSuffix(".xctest/Contents/MacOS") {
        directory = directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    return directory.appendingPathComponent("octopus").path
}()

/// A child process started by a test, with its output collected to files (no pipe can fill up).
final class Launched {
    let process = Process()
    let stdoutPath: String
    let stderrPath: String

    /// Starts `executable` (the octopus binary unless given) with `arguments`; `environment`
    /// replaces the inherited one when given.
    init(
        _ arguments: [String], in directory: String, name: String, executable: String = octopusBinary,
        environment: [String: String]? = nil
    ) throws {
        stdoutPath = directory + "/\(name).out"
        stderrPath = directory + "/\(name).err"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.currentDirectoryURL = URL(fileURLWithPath: repositoryRoot)
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits for exit; kills the process and fails if it takes longer than `seconds`.
    @discardableResult
    func wait(seconds: Double, file: StaticString = #filePath, line: UInt = #line) -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
            XCTFail(
                "process \(process.arguments ?? []) did not exit within \(seconds) s; stderr: \(stderr)", file: file,
                line: line)
            return -1
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Runs `octopus` with `arguments` to completion.
func octopus(_ arguments: [String], in directory: String, name: String, seconds: Double = 120) throws -> (
    status: Int32, stdout: String, stderr: String
) {
    let launched = try Launched(arguments, in: directory, name: name)
    let status = launched.wait(seconds: seconds)
    return (status, launched.stdout, launched.stderr)
}

/// Processes whose command line contains all of `fragments` (read from /proc).
func processes(matching fragments: [String]) -> [Int32] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    return entries.compactMap { entry -> Int32? in
        guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else {
            return nil
        }
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        let line = arguments.joined(separator: " ")
        // Zombies already reaped or exiting processes have an empty command line.
        return !arguments.isEmpty && fragments.allSatisfy { line.contains($0) } ? pid : nil
    }
}

/// Cluster processes launched by the `octopus run` with process id `launcher`.
func clusterChildren(of launcher: Int32) -> [Int32] {
    processes(matching: [" cluster ", "--parent-pid \(launcher)"])
}

/// The CPUs thread `task` of process `pid` may run on (its `Cpus_allowed_list` in /proc; this
/// process's first thread when not given), in increasing order; nil once it is gone.
func allowedCPUs(of pid: Int32 = getpid(), task: Int32? = nil) -> [Int]? {
    let path = "/proc/\(pid)/task/\(task ?? pid)/status"
    guard let status = try? String(contentsOfFile: path, encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") })
    else { return nil }
    var cpus: [Int] = []
    for part in line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces).split(separator: ",") {
        let bounds = part.split(separator: "-").compactMap { Int($0) }
        if let first = bounds.first { cpus += Array(first...(bounds.last ?? first)) }
    }
    return cpus
}

/// The threads of process `pid` (its /proc task ids) with their names.
func threads(of pid: Int32) -> [(task: Int32, name: String)] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    return tasks.compactMap { entry in
        guard let task = Int32(entry) else { return nil }
        let name = (try? String(contentsOfFile: "/proc/\(pid)/task/\(entry)/comm", encoding: .utf8)) ?? ""
        return (task, name.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// Waits until `condition` holds or `seconds` pass.
func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}

func makeTemporaryDirectory(_ name: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("octopus-e2e-\(name)-\(getpid())").path
    try? FileManager.default.removeItem(atPath: path)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A loopback TCP port that was free a moment ago, and whose successor was too (the Slurm script
/// puts the control socket on PORT + 1).
///
/// Ports come from below the kernel's ephemeral range (32768–60999 by default), so an outgoing
/// connection made meanwhile by some other socket cannot take them, and none is handed out twice
/// in one test process.
func freePort() -> Int {
    while true {
        let candidate = Int.random(in: 20_000..<32_000)
        guard !handedOutPorts.contains(candidate), !handedOutPorts.contains(candidate + 1) else { continue }
        guard canBind(candidate), canBind(candidate + 1) else { continue }
        handedOutPorts.insert(candidate)
        handedOutPorts.insert(candidate + 1)
        return candidate
    }
}

nonisolated(unsafe) private var handedOutPorts: Set<Int> = []

private func canBind(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    let length = socklen_t(MemoryLayout<sockaddr_in>.size)
    return withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    } == 0
}

func readJSON(_ path: String) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
}

/// User + system CPU time of `pid` in clock ticks (from /proc/PID/stat).
func cpuTicks(_ pid: Int32) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = text.lastIndex(of: ")")
    else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    // After the command name: state is field 3, utime field 14, stime field 15 (1-based in proc(5)).
    guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
    return user + system
}

/// Output of a tool of the system (readelf, sha256sum) run on `arguments`; fails on a non-zero exit.
func systemTool(_ tool: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [tool] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw NSError(domain: tool, code: Int(process.terminationStatus))
    }
    return String(decoding: output, as: UTF8.self)
}

/// The GNU build ID `readelf -n` prints for `executable`.
func buildID(of executable: String) throws -> String {
    let notes = try systemTool("readelf", ["-n", executable])
    let line = try XCTUnwrap(notes.split(separator: "\n").first { $0.contains("Build ID:") }, notes)
    return line.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)
}

/// The SHA-256 digest `sha256sum` prints for `path`.
func sha256sum(_ path: String) throws -> String {
    String(try systemTool("sha256sum", [path]).prefix(64))
}
