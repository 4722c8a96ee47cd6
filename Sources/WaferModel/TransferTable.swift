/// The transfer latencies from one cluster to every cluster of a mesh, worked out once.
///
/// Placement weighs a transfer from the block's origin to every cluster of the wafer at every
/// decision, and ``Mesh/transferLatency(from:to:bytes:)`` works out the route's hops and divides
/// bytes by bandwidth each time: on a 16×16 wafer that was two thirds of a cluster's placement.
/// The table keeps, per destination, the route's summed hop latencies and which kinds of link it
/// crosses; a decision then divides once per kind of link (``sizing(bytes:)``) and reads one
/// entry per cluster. It equals `transferLatency` for every destination and size (tested), with
/// or without defects.
public struct TransferTable: Equatable, Sendable {
    /// The cluster the transfers start from.
    public let origin: Int
    /// Summed hop latencies of the route to each cluster (0 to the origin).
    @usableFromInline let hopCycles: [Cycle]
    /// The links the route to each cluster crosses (a ``LinkKinds`` raw value).
    @usableFromInline let kinds: [UInt8]
    private let intraBandwidth: Int
    private let interBandwidth: Int

    /// Which links a route crosses, which decides its narrowest bandwidth.
    @usableFromInline enum LinkKinds: UInt8 {
        case none, intraOnly, interOnly, both
    }

    /// The table of transfers from `origin` over `mesh`.
    public init(mesh: Mesh, origin: Int) {
        precondition(origin >= 0 && origin < mesh.count, "cluster \(origin) is not on the mesh")
        self.origin = origin
        intraBandwidth = mesh.intraDie.bandwidthBytesPerCycle
        interBandwidth = mesh.interDie.bandwidthBytesPerCycle
        var hopCycles = [Cycle](repeating: 0, count: mesh.count)
        var kinds = [UInt8](repeating: LinkKinds.none.rawValue, count: mesh.count)
        for cluster in 0..<mesh.count where cluster != origin {
            let hops = mesh.hops(from: origin, to: cluster)
            hopCycles[cluster] =
                Cycle(hops.intra) * mesh.intraDie.hopLatency + Cycle(hops.inter) * mesh.interDie.hopLatency
            let kind: LinkKinds =
                switch (hops.intra > 0, hops.inter > 0) {
                case (false, false): .none
                case (true, false): .intraOnly
                case (false, true): .interOnly
                case (true, true): .both
                }
            kinds[cluster] = kind.rawValue
        }
        self.hopCycles = hopCycles
        self.kinds = kinds
    }

    /// Serialisation cycles of one transfer size over each kind of route: what
    /// ``latency(to:_:)`` adds to a route's hop latencies.
    public struct Sizing: Sendable {
        @usableFromInline let intraOnly: Cycle
        @usableFromInline let interOnly: Cycle
        @usableFromInline let both: Cycle
        /// A route of no links (never one between two clusters; kept so that the table equals
        /// ``Mesh/transferLatency(from:to:bytes:)`` whatever the mesh).
        @usableFromInline let none: Cycle
    }

    /// The serialisation of `bytes` over each kind of route, as
    /// ``Mesh/transferLatency(from:to:bytes:)`` works it out.
    public func sizing(bytes: UInt64) -> Sizing {
        Sizing(
            intraOnly: Mesh.serialisation(bytes: bytes, bandwidth: intraBandwidth),
            interOnly: Mesh.serialisation(bytes: bytes, bandwidth: interBandwidth),
            both: Mesh.serialisation(bytes: bytes, bandwidth: min(intraBandwidth, interBandwidth)),
            none: Mesh.serialisation(bytes: bytes, bandwidth: .max))
    }

    /// Cycles for a transfer sized by `sizing` to travel from ``origin`` to `cluster`: equal to
    /// `mesh.transferLatency(from: origin, to: cluster, bytes:)` for the bytes `sizing` is of.
    /// Inlinable into the placement loop of another module: a call per cluster was a tenth of a
    /// 16×16 wafer's mean decision.
    @inlinable
    public func latency(to cluster: Int, _ sizing: Sizing) -> Cycle {
        guard cluster != origin else { return 0 }
        let serialisation =
            switch kinds[cluster] {
            case LinkKinds.intraOnly.rawValue: sizing.intraOnly
            case LinkKinds.interOnly.rawValue: sizing.interOnly
            case LinkKinds.both.rawValue: sizing.both
            default: sizing.none
            }
        return hopCycles[cluster] + serialisation
    }
}
