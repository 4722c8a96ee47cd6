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
    /// A TBU holding its block's output until a credit lets it leave (flow control); `taskType`
    /// and `request` name the waiting output.
    case blocked = 5
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
    /// A task flow enters the slice starting at `time` on `unit` — or, on ``TraceUnit/events``, ends
    /// at the rejection of its block at `time` (every flow that starts ends). `cluster` -1 is the
    /// coordinator (its central queue).
    case flowEnd(cluster: Int32, unit: UInt16, time: Cycle, flow: UInt64)
    /// Queue length, busy TBUs and queued cycles of a cluster.
    case queue(cluster: Int32, time: Cycle, tasks: UInt32, busyTBUs: UInt16, pendingCycles: UInt64)
    /// A block rejected at a full queue (drawn on the participant's ``TraceUnit/events`` track);
    /// `cluster` -1 is the coordinator (admission control, the central queue).
    case rejected(cluster: Int32, time: Cycle, request: UInt64, taskType: TaskType)
    /// A request arrived at the wafer (coordinator track).
    case injected(time: Cycle, request: UInt64, workflow: UInt16, cluster: Int32)
    /// Requests in flight (coordinator counter).
    case inFlight(time: Cycle, count: UInt32)
    /// A transfer occupying one of `cluster`'s router resources (``TraceUnit/router(_:)``) from
    /// `start` for `duration` cycles after waiting `waited` cycles for it (contention link model).
    case linkBusy(cluster: Int32, resource: UInt8, start: Cycle, duration: Cycle, waited: Cycle, bytes: UInt64)
}

extension TraceRecord {
    /// When the record happens and for how long (0 for an instant).
    public var extent: (time: Cycle, span: Cycle) {
        switch self {
        case .slice(_, _, let start, let duration, _, _, _), .linkBusy(_, _, let start, let duration, _, _):
            (start, duration)
        case .flowStart(_, _, let time, _), .flowEnd(_, _, let time, _), .queue(_, let time, _, _, _),
            .rejected(_, let time, _, _), .injected(let time, _, _, _), .inFlight(let time, _):
            (time, 0)
        }
    }
}

/// Thread (track) ids inside a cluster's process track.
public enum TraceUnit {
    /// The participant's own track (cluster or coordinator): rejections, and the task flows
    /// they end.
    public static let events: UInt16 = 0
    /// Track of TBU `index`.
    public static func tbu(_ index: Int) -> UInt16 { UInt16(index + 1) }
    /// Track of CBU `index`.
    public static func cbu(_ index: Int) -> UInt16 { UInt16(1001 + index) }

    /// Track of router resource `resource` (``RouterPorts/Resource``: links north, west, east,
    /// south, then the injection and ejection ports).
    public static func router(_ resource: Int) -> UInt16 { UInt16(2001 + resource) }

    /// The router resources of `cluster` that can carry traffic, with their track names (`mesh`:
    /// `config`'s, built once by the caller rather than once per cluster).
    public static func routerTracks(of cluster: Int, config: WaferConfig, mesh: Mesh) -> [(unit: UInt16, name: String)]
    {
        guard config.interconnect.model == .contention, mesh.hostsWork(cluster) || mesh.defects.isEmpty else {
            return []
        }
        var tracks: [(UInt16, String)] = []
        for neighbour in mesh.adjacent(to: cluster) where mesh.linkWorks(cluster, neighbour) {
            let link = mesh.linkIndex(from: cluster, to: neighbour)
            tracks.append((router(link % 4), "link to cluster \(neighbour)"))
        }
        tracks.append((router(RouterPorts.Resource.injection.rawValue), "injection port"))
        tracks.append((router(RouterPorts.Resource.ejection.rawValue), "ejection port"))
        return tracks
    }

    /// The name of cluster `cluster`'s track: its place on the mesh (`config`'s) and its defects.
    public static func clusterName(_ cluster: Int, config: WaferConfig, mesh: Mesh) -> String {
        let p = mesh.position(of: cluster)
        let d = mesh.die(of: cluster)
        var name = "cluster \(cluster) (row \(p.row), col \(p.column), die \(d.row).\(d.column))"
        if config.defects.clusters.contains(cluster) {
            name += " defective"
        } else {
            let dead = config.defects.tbus.filter { $0.cluster == cluster }.map { String($0.tbu) }
            if !dead.isEmpty { name += " defective TBU \(dead.joined(separator: ", "))" }
        }
        return name
    }

    /// The name of the track of working TBU `index` of `cluster` (named by its number among all
    /// of the cluster's TBUs, defective ones included, on `mesh`, `config`'s).
    public static func tbuName(_ index: Int, of cluster: Int, config: WaferConfig, mesh: Mesh) -> String {
        let array = config.cluster.peArray
        return
            "TBU \(mesh.physicalTBU(index, of: cluster)) (\(array.rows)x\(array.columns) \(array.dataflow.rawValue.uppercased()))"
    }
}

/// A trace record with the virtual time of the event that made it. Records are ordered by that
/// time, then by participant (coordinator first, then clusters by id), then as made — an order
/// that does not depend on how the run was cut into windows (``TraceOrder``).
public struct TimedTraceRecord: Equatable, Sendable {
    public var time: Cycle
    public var record: TraceRecord

    public init(time: Cycle, record: TraceRecord) {
        self.time = time
        self.record = record
    }
}

/// The canonical order of a window's trace records.
public enum TraceOrder {
    /// Merges the records of one window, `lists` given in participant order (coordinator, then
    /// clusters by id) and each in the order its participant made them: by event time, ties by
    /// participant. Every window's events lie before the next window's, so the whole trace ends up
    /// in (time, participant, sequence) order however the run was cut into windows.
    public static func merge(_ lists: [[TimedTraceRecord]]) -> [TraceRecord] {
        let nonEmpty = lists.filter { !$0.isEmpty }
        if nonEmpty.count <= 1 { return nonEmpty.first?.map(\.record) ?? [] }
        var result: [TraceRecord] = []
        result.reserveCapacity(nonEmpty.reduce(0) { $0 + $1.count })
        var positions = Array(repeating: 0, count: nonEmpty.count)
        while true {
            var best = -1
            var bestTime = Cycle.max
            for (index, list) in nonEmpty.enumerated() where positions[index] < list.count {
                let time = list[positions[index]].time
                if time < bestTime {
                    best = index
                    bestTime = time
                }
            }
            guard best >= 0 else { return result }
            // Take every record of that participant at this time in one go.
            let list = nonEmpty[best]
            while positions[best] < list.count && list[positions[best]].time == bestTime {
                result.append(list[positions[best]].record)
                positions[best] += 1
            }
        }
    }
}
