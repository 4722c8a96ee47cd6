/// When `octopus run` pins the processes of a wafer on this machine to CPUs (``CoreLayout``).
public enum CPUPinning: String, CaseIterable, Sendable {
    /// When the cluster processes are no more than the CPUs (the default): then every one has a
    /// CPU of its own, the first shared with the coordinator.
    case automatic
    /// Always (`--pin-cpus`), however many processes share a CPU.
    case always
    /// Never (`--no-pin-cpus`): the kernel places the processes.
    case never

    /// True when a wafer of `clusterProcesses` processes on `cpus` allowed CPUs is pinned.
    public func pins(clusterProcesses: Int, cpus: Int) -> Bool {
        switch self {
        case .automatic: return clusterProcesses <= cpus
        case .always: return true
        case .never: return false
        }
    }
}

/// Which CPU each process of a wafer launched on this machine runs on when `octopus run` pins
/// them (``CPUPinning``).
///
/// Why pin: every message between two processes wakes threads on both sides, and on a machine
/// with few cores (measured on a 2-core virtual machine) a round trip between two processes on
/// one CPU took half the time of one across two CPUs and a quarter to a half of one left to the
/// kernel, which also moves ZeroMQ's I/O thread and the application thread of one process
/// apart. Why the coordinator shares a CPU: it waits while the clusters run a round and the
/// clusters wait while it works between rounds, so the two never need a CPU each; sharing one
/// turns the commonest messages (grants and reports between the coordinator and the first
/// cluster process) into wake-ups on the same CPU. The cluster processes take the allowed CPUs
/// in turn from the one the coordinator runs on, so two runs started at once tend to start on
/// different CPUs. Why only when processes are no more than CPUs by default: with many
/// processes per CPU the gain was within the noise, and a 257-process wafer registered more
/// slowly with the coordinator's I/O thread confined to a CPU shared with 128 starting
/// processes. Pinning changes where processes run, never what they compute: results and traces
/// are the same.
public struct CoreLayout: Equatable, Sendable {
    /// The coordinator's CPU (its threads: the session's, ZeroMQ's I/O thread, the trace writers).
    public var coordinator: Int
    /// The CPU of each cluster process, in launch order.
    public var clusterProcesses: [Int]

    public init(coordinator: Int, clusterProcesses: [Int]) {
        self.coordinator = coordinator
        self.clusterProcesses = clusterProcesses
    }

    /// The layout for `processes` cluster processes over `cpus` (the CPUs this process may run
    /// on), starting at `current` (the CPU it runs on now; the first allowed one when unknown or
    /// not allowed). Nil when there is nothing to choose: fewer than two CPUs.
    public init?(cpus: [Int], startingAt current: Int?, clusterProcesses processes: Int) {
        let cpus = Array(Set(cpus)).sorted()
        guard cpus.count >= 2 else { return nil }
        let start = current.flatMap { cpus.firstIndex(of: $0) } ?? 0
        coordinator = cpus[start]
        clusterProcesses = (0..<max(processes, 0)).map { cpus[(start + $0) % cpus.count] }
    }
}
