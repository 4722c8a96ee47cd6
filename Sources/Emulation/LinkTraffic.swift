import WaferModel

/// Bytes and transfers carried by each directed mesh link, counted along every transfer's route
/// (``Mesh/route(from:to:)``) by the cluster that sent it; under the contention link model also
/// each link's and port's occupancy and queueing, counted by the router that owns it.
public struct LinkTraffic: Codable, Equatable, Sendable {
    /// Bytes by link index (``Mesh/linkIndex(from:to:)``); links never used are absent.
    public private(set) var bytes: [Int: UInt64] = [:]
    /// Transfers by link index.
    public private(set) var transfers: [Int: UInt64] = [:]
    /// Occupancy by link index (contention model only).
    public private(set) var occupancy: [Int: LinkOccupancy] = [:]
    /// Occupancy of the clusters' ports by `2 × cluster + 0` (injection) or `+ 1` (ejection)
    /// (contention model only).
    public private(set) var ports: [Int: LinkOccupancy] = [:]

    public init() {}

    /// Traffic with these counts (a decoded copy of another participant's).
    public init(
        bytes: [Int: UInt64], transfers: [Int: UInt64], occupancy: [Int: LinkOccupancy], ports: [Int: LinkOccupancy]
    ) {
        self.bytes = bytes
        self.transfers = transfers
        self.occupancy = occupancy
        self.ports = ports
    }

    /// Counts a transfer of `size` bytes from cluster `from` to cluster `to`.
    mutating func add(_ size: UInt64, from: Int, to: Int, mesh: Mesh) {
        guard from != to else { return }
        for link in mesh.route(from: from, to: to) {
            // Saturating: `size` may come from another cluster's message.
            bytes[link, default: 0] = bytes[link, default: 0].adding(size)
            transfers[link, default: 0] += 1
        }
    }

    /// Counts a reservation of link `index` (contention model).
    mutating func occupy(link index: Int, start: Cycle, end: Cycle, head: Cycle) {
        occupancy[index, default: LinkOccupancy()].add(start: start, end: end, head: head)
    }

    /// Counts a reservation of `cluster`'s injection or ejection port (contention model).
    mutating func occupy(port cluster: Int, ejection: Bool, start: Cycle, end: Cycle, head: Cycle) {
        ports[2 * cluster + (ejection ? 1 : 0), default: LinkOccupancy()].add(start: start, end: end, head: head)
    }

    /// Adds another participant's counts.
    mutating func merge(_ other: LinkTraffic) {
        // Saturating: the counts come from the clusters (a broken one's must not trap the coordinator).
        for (link, count) in other.bytes { bytes[link] = bytes[link, default: 0].adding(count) }
        for (link, count) in other.transfers { transfers[link] = transfers[link, default: 0].adding(count) }
        // Each link and port belongs to one router, so occupancies never overlap.
        occupancy.merge(other.occupancy) { a, _ in a }
        ports.merge(other.ports) { a, _ in a }
    }
}
