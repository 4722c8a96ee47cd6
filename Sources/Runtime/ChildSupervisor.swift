import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Starts cluster processes as children, reports any that die unexpectedly, and makes sure none
/// outlives the run: children also get the kernel's parent-death signal, so even a SIGKILL of the
/// launcher takes them down.
public final class ChildSupervisor: @unchecked Sendable {
    private let lock = NSLock()
    private var children: [Int: Process] = [:]
    private var expectingExit = false
    private let wake: WakeSignal

    public init(wake: WakeSignal) { self.wake = wake }

    /// The executable of this process (children run the same binary).
    public static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Starts the process of cluster `id` with `arguments` (after the executable).
    public func start(cluster id: Int, arguments: [String]) throws {
        try start(clusters: id..<(id + 1), arguments: arguments)
    }

    /// Starts one process hosting `clusters` with `arguments` (after the executable).
    public func start(clusters: Range<Int>, arguments: [String]) throws {
        try start(clusters: clusters, executable: Self.executablePath, arguments: arguments)
    }

    /// Starts the process of `clusters` through `/bin/sh -c command` (a launch template: ssh, ip
    /// netns exec, …). The shell execs the command, so the child watched and signalled is the
    /// launcher itself.
    public func start(clusters: Range<Int>, shellCommand command: String) throws {
        try start(clusters: clusters, executable: "/bin/sh", arguments: ["-c", "exec " + command])
    }

    /// Starts one process for `clusters` (its death is reported as the first one's, by its pid).
    private func start(clusters: Range<Int>, executable: String, arguments: [String]) throws {
        let id = clusters.lowerBound
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        // OpenBLAS (functional mode) starts a worker thread per core at load time, and each spins
        // on sched_yield for a while: in 17 processes on 2 cores that is measurable system time
        // for nothing. Cluster processes share the cores anyway, so one BLAS thread each.
        var environment = ProcessInfo.processInfo.environment
        if environment["OPENBLAS_NUM_THREADS"] == nil { environment["OPENBLAS_NUM_THREADS"] = "1" }
        process.environment = environment
        process.terminationHandler = { [weak self] p in
            guard let self else { return }
            self.lock.lock()
            let expected = self.expectingExit
            self.lock.unlock()
            if !expected {
                let how =
                    p.terminationReason == .uncaughtSignal
                    ? "killed by signal \(p.terminationStatus)" : "exited with status \(p.terminationStatus)"
                self.wake.notify(.childExited(cluster: id, pid: p.processIdentifier, description: how))
            }
        }
        try process.run()
        lock.lock()
        for cluster in clusters { children[cluster] = process }
        lock.unlock()
    }

    /// Process id of cluster `id`'s process, if started.
    public func pid(of id: Int) -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        return children[id]?.processIdentifier
    }

    /// How cluster `id`'s process ended, waiting up to `seconds` for it to end; nil if it is still
    /// running or was never started.
    public func exit(of id: Int, waitingUpTo seconds: TimeInterval) -> (pid: Int32, description: String)? {
        lock.lock()
        let process = children[id]
        lock.unlock()
        guard let process else { return nil }
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        guard !process.isRunning else { return nil }
        let how =
            process.terminationReason == .uncaughtSignal
            ? "killed by signal \(process.terminationStatus)" : "exited with status \(process.terminationStatus)"
        return (process.processIdentifier, how)
    }

    /// From now on, exits are part of shutdown and not reported.
    public func expectExits() {
        lock.lock()
        expectingExit = true
        lock.unlock()
    }

    /// Waits up to `grace` seconds for children to exit by themselves, then sends SIGTERM, then
    /// SIGKILL. Returns when every child is gone.
    public func stopAll(grace: TimeInterval = 3) {
        expectExits()
        lock.lock()
        // A process hosting several clusters is listed under each.
        var seen = Set<ObjectIdentifier>()
        let all = children.keys.sorted().compactMap { children[$0] }.filter {
            seen.insert(ObjectIdentifier($0)).inserted
        }
        lock.unlock()
        if waitAll(all, seconds: grace) { return }
        for p in all where p.isRunning { kill(p.processIdentifier, SIGTERM) }
        if waitAll(all, seconds: 2) { return }
        for p in all where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        for p in all { p.waitUntilExit() }
    }

    private func waitAll(_ processes: [Process], seconds: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if !processes.contains(where: \.isRunning) { return true }
            usleep(20_000)
        }
        return !processes.contains(where: \.isRunning)
    }
}
