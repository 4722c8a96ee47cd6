import WaferModel

/// Bytes and transfers carried by each directed mesh link, counted along every transfer's XY
/// route (``Mesh/route(from:to:)``). Links are pure delays in this model, so this is the traffic
/// offered to each link, not a contention measurement.
public struct LinkTraffic: Codable, Equatable, Sendable {
    /// Bytes by link index (``Mesh/linkIndex(from:to:)``); links never used are absent.
    public private(set) var bytes: [Int: UInt64] = [:]
    /// Transfers by link index.
    public private(set) var transfers: [Int: UInt64] = [:]

    public init() {}

    /// Counts a transfer of `size` bytes from cluster `from` to cluster `to`.
    mutating func add(_ size: UInt64, from: Int, to: Int, mesh: Mesh) {
        guard from != to else { return }
        for link in mesh.route(from: from, to: to) {
            bytes[link, default: 0] += size
            transfers[link, default: 0] += 1
        }
    }

    /// Adds another participant's counts.
    mutating func merge(_ other: LinkTraffic) {
        for (link, count) in other.bytes { bytes[link, default: 0] += count }
        for (link, count) in other.transfers { transfers[link, default: 0] += count }
    }
}
