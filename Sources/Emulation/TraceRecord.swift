import Scheduling
import WaferModel

/// What a slice on a unit's track shows.
public enum SliceKind: UInt8, Sendable {
    /// A task block executing on a TBU.
    case task = 0
    /// A TBU being reconfigured for a task-block type.
    case reconfigure = 1
    /// A control block evaluated on a CBU.
    case control = 2
    /// One operation (layer) of a task block, nested inside the block's slice; `request` holds the
    /// operation's index in the block.
    case operation = 3
    /// A TBU lent to a block split across several arrays (adaptive parallelism); the block's own
    /// slice, with its operations, is on the TBU that leads the split.
    case splitPart = 4
}

/// One compact trace record. Participants produce them while running windows; the coordinator
/// renders them as Chrome Trace Event JSON (names come from the shared workflow library).
public enum TraceRecord: Equatable, Sendable {
    /// A complete slice on `unit` of `cluster`.
    case slice(
        cluster: Int32, unit: UInt16, start: Cycle, duration: Cycle, kind: SliceKind, taskType: TaskType,
        request: UInt64)
    /// A task flow leaves the slice on `unit` that contains `time`.
    case flowStart(cluster: Int32, unit: UInt16, time: Cycle, flow: UInt64)
    /// A task flow enters the slice starting at `time` on `unit`.
    case flowEnd(cluster: Int32, unit: UInt16, time: Cycle, flow: UInt64)
    /// Queue length, busy TBUs and queued cycles of a cluster.
    case queue(cluster: Int32, time: Cycle, tasks: UInt32, busyTBUs: UInt16, pendingCycles: UInt64)
    /// A request rejected at a full queue.
    case rejected(cluster: Int32, time: Cycle, request: UInt64, taskType: TaskType)
    /// A request arrived at the wafer (coordinator track).
    case injected(time: Cycle, request: UInt64, workflow: UInt16, cluster: Int32)
    /// Requests in flight (coordinator counter).
    case inFlight(time: Cycle, count: UInt32)
}

/// Thread (track) ids inside a cluster's process track.
public enum TraceUnit {
    /// Track of TBU `index`.
    public static func tbu(_ index: Int) -> UInt16 { UInt16(index + 1) }
    /// Track of CBU `index`.
    public static func cbu(_ index: Int) -> UInt16 { UInt16(1001 + index) }
}
