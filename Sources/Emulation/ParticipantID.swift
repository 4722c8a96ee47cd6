/// A process of the emulated wafer: the coordinator or one cluster.
public struct ParticipantID: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    /// -1 for the coordinator, the cluster id otherwise.
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The coordinator.
    public static let coordinator = ParticipantID(rawValue: -1)

    /// Cluster `id`.
    public static func cluster(_ id: Int) -> ParticipantID { ParticipantID(rawValue: Int32(id)) }

    /// The cluster id, or nil for the coordinator.
    public var clusterIndex: Int? { rawValue >= 0 ? Int(rawValue) : nil }

    public static func < (a: ParticipantID, b: ParticipantID) -> Bool { a.rawValue < b.rawValue }

    public var description: String { rawValue < 0 ? "coordinator" : "cluster \(rawValue)" }
}
