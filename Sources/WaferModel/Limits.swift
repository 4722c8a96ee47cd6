/// The largest values the emulator accepts from outside (files, control messages, command line),
/// enforced where they are parsed so that nothing derived from them can overflow, spin or exhaust
/// memory. Documented in `docs/configuration.md` ("Limits").
public enum Limits {
    /// The largest cycle count any field may give (2^48 ≈ 2.8·10^14 cycles: 78 hours at 1 GHz).
    /// Sums of a few such values with any time before ``horizon`` still fit in a ``Cycle``.
    public static let largestCycles: Cycle = 1 << 48

    /// The largest per-event duration a wafer file may give — link and control latencies,
    /// reconfiguration, control-block and load-signal periods, quantum windows (10^9 cycles:
    /// 1 s at 1 GHz). Periodic load signals keep ticking while work waits, so a single step far
    /// longer than this would cost millions of events; it is refused instead.
    public static let largestDuration: Cycle = 1_000_000_000

    /// Multiply-accumulates one model layer may do (2^40 ≈ 1.1·10^12; a 7B-parameter decoder's
    /// prefill of 4,096 tokens does about 2^37 per projection).
    public static let layerMACs = 1 << 40

    /// Virtual time a run may reach (2^62 cycles). An event scheduled at or beyond it stops the run
    /// with an error rather than letting time wrap or saturate.
    public static let horizon: Cycle = 1 << 62

    /// The latest arrival an injection may ask for (2^42 ≈ 4.4·10^12 cycles: 73 minutes at 1 GHz,
    /// room for an hour-long production trace). Virtual time is not free even while the wafer
    /// waits — a periodic planner steps every period while requests are pending — so arrivals
    /// further out would keep a run busy for hours.
    public static let latestArrival: Cycle = 1 << 42

    /// Requests one injection (a workload entry or an `inject` message) may ask for.
    public static let requestsPerInjection = 1_000_000

    /// Requests a wafer holds accepted but not yet finished; an injection that would exceed it is
    /// refused, so a flood of injections cannot exhaust the coordinator's memory.
    public static let outstandingRequests = 2_000_000

    /// State changes a Markov-modulated arrival process may make per request drawn (plus a fixed
    /// allowance): beyond it the process is refused as degenerate rather than spun forever.
    public static let markovStateChangesPerArrival = 100

    /// Recorded arrivals a replay may hold.
    public static let replayArrivals = 1_000_000

    /// YAML nodes a document may expand to (aliases counted every time they are used), so a
    /// "billion laughs" document is refused before anything walks it.
    public static let yamlNodes = 1_000_000

    /// Bytes of one control-socket message; larger messages are refused before they are read.
    public static let controlMessageBytes = 4 << 20

    /// Clusters along each side of a wafer's mesh (so at most 65,536 clusters).
    public static let meshSide = 1...256

    /// A PE array's rows and columns, wherever an array is given (a wafer file, a SCALE-Sim
    /// configuration, `octopus pea`): beyond these its timing could overflow.
    public static let arraySide = 1...4096

    /// A PE array's SRAM in bytes (at least two bytes for each of its three operands).
    public static let arraySRAMBytes = 6...Int(Int32.max)

    /// A link's bandwidth in bytes per cycle.
    public static let bandwidthBytesPerCycle = 1...1_000_000

    /// Seconds a command-line timeout may give (`--setup-timeout`, `--registration-timeout`,
    /// `--failed-timeout`, `ctl --timeout`): 10^6 s, eleven and a half days. Not a number, an
    /// infinity or more would hang or overflow the wait.
    public static let waitSeconds = 0.0...1_000_000
}
