import WaferModel

/// A ready block waiting in the coordinator's central queue, as the policy sees it.
public struct CentralQueueEntry: Equatable, Sendable {
    /// The cluster holding its input, or nil for a request's entry block (input from off-wafer).
    public var origin: Int?
    /// The cluster it must run on (a join runs where its fan-out's state lives), or nil for any.
    public var pinned: Int?
    /// Bytes of its input.
    public var bytes: UInt64

    public init(origin: Int?, pinned: Int?, bytes: UInt64) {
        self.origin = origin
        self.pinned = pinned
        self.bytes = bytes
    }
}

/// The coordinator's central queue (``ReadyBlockRouting/centralQueue(_:)``): blocks wait there in
/// arrival order; whenever a TBU is free somewhere, the coordinator walks the queue oldest first and
/// asks the policy where each block should go.
///
/// Contract:
/// - Deterministic and pure (a function of its arguments).
/// - Returns nil (the block keeps waiting, without holding up younger blocks) or a cluster that
///   has a free working TBU (`busyTBUs[c] < mesh.workingTBUs(of: c)`, which is `tbus` — TBUs per
///   cluster — on a wafer without defective TBUs); a `pinned` block may only go to its pinned cluster.
public protocol CentralQueuePolicy: Sendable {
    var name: String { get }
    /// The cluster for `entry`, or nil to leave it queued.
    func cluster(for entry: CentralQueueEntry, busyTBUs: [Int], tbus: Int, mesh: Mesh) -> Int?
}
