/// Which CPU each process of a wafer launched on this machine runs on when `octopus run` pins
/// them (``LocalWafer/Options/pinsCPUs``, the default).
///
/// Why pin: every message between two processes wakes threads on both sides, and on a machine
/// with few cores (measured on a 2-core virtual machine) a wake-up on another core costs about
/// twice one on the same core — the idle core has to be woken, and every message between two
/// processes of a round crosses cores about half the time when the kernel places them. Why the
/// coordinator shares a core: it waits while the clusters run a round and the clusters wait
/// while it works between rounds, so the two never need a core each; sharing one turns the
/// commonest messages (grants and reports between the coordinator and the first cluster
/// process) into wake-ups on the same core. The cluster processes take the allowed CPUs in turn
/// from the one the coordinator runs on, so two runs started at once tend to start on different
/// cores. Pinning changes where processes run, never what they compute: results and traces are
/// the same.
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
