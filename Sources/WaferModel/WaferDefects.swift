/// The defective parts of a wafer: whole clusters, single TBUs (PE arrays) and mesh links. Wafer-
/// scale chips ship with such defects and route around them; the emulated wafer does the same.
///
/// - A **defective cluster** is dead whole: its TBUs, CBUs and router. No work runs on it and no
///   transfer passes through it.
/// - A **defective TBU** never runs work; its cluster works with the others. A cluster whose TBUs
///   are all defective hosts no work, but its router still forwards transfers.
/// - A **defective link** joins two neighbouring clusters; it carries nothing in either direction.
///
/// Lists are explicit after loading: a seeded yield rate in the wafer file is turned into lists
/// once, so every process of a run sees the same defects.
public struct WaferDefects: Codable, Equatable, Sendable {
    /// One TBU of one cluster.
    public struct TBUAddress: Codable, Hashable, Comparable, Sendable {
        public var cluster: Int
        public var tbu: Int

        public init(cluster: Int, tbu: Int) {
            self.cluster = cluster
            self.tbu = tbu
        }

        public static func < (a: TBUAddress, b: TBUAddress) -> Bool {
            (a.cluster, a.tbu) < (b.cluster, b.tbu)
        }
    }

    /// A link between two neighbouring clusters (`a < b`), dead in both directions.
    public struct Link: Codable, Hashable, Comparable, Sendable {
        public var a: Int
        public var b: Int

        public init(_ x: Int, _ y: Int) {
            a = min(x, y)
            b = max(x, y)
        }

        public static func < (l: Link, r: Link) -> Bool { (l.a, l.b) < (r.a, r.b) }
    }

    /// Defective clusters, ascending.
    public var clusters: [Int]
    /// Defective TBUs of clusters that are not defective themselves, ascending.
    public var tbus: [TBUAddress]
    /// Defective links, ascending.
    public var links: [Link]

    public init(clusters: [Int] = [], tbus: [TBUAddress] = [], links: [Link] = []) {
        self.clusters = Array(Set(clusters)).sorted()
        let dead = Set(self.clusters)
        self.tbus = Array(Set(tbus)).filter { !dead.contains($0.cluster) }.sorted()
        self.links = Array(Set(links)).sorted()
    }

    /// A wafer without defects.
    public static let none = WaferDefects()

    public var isEmpty: Bool { clusters.isEmpty && tbus.isEmpty && links.isEmpty }

    /// Seeded random defects: each cluster, TBU and link is defective with its rate, independently,
    /// drawn from `seed` in a fixed order (clusters, then TBUs, then links), so the same rates and
    /// seed give the same defects on any machine.
    public static func drawn(
        mesh: (rows: Int, columns: Int), tbusPerCluster: Int, clusterRate: Double, tbuRate: Double,
        linkRate: Double, seed: UInt64
    ) -> WaferDefects {
        var rng = SplitMix64(keys: seed, 0xDEFEC75)
        let count = mesh.rows * mesh.columns
        var clusters: [Int] = []
        for cluster in 0..<count where rng.nextUnit() < clusterRate { clusters.append(cluster) }
        var tbus: [TBUAddress] = []
        for cluster in 0..<count {
            for tbu in 0..<tbusPerCluster where rng.nextUnit() < tbuRate {
                tbus.append(TBUAddress(cluster: cluster, tbu: tbu))
            }
        }
        var links: [Link] = []
        for cluster in 0..<count {
            let (row, column) = (cluster / mesh.columns, cluster % mesh.columns)
            // Each link once: to the east and to the south neighbour.
            if column + 1 < mesh.columns, rng.nextUnit() < linkRate { links.append(Link(cluster, cluster + 1)) }
            if row + 1 < mesh.rows, rng.nextUnit() < linkRate { links.append(Link(cluster, cluster + mesh.columns)) }
        }
        return WaferDefects(clusters: clusters, tbus: tbus, links: links)
    }

    /// These defects together with `other`'s.
    public func merged(with other: WaferDefects) -> WaferDefects {
        WaferDefects(clusters: clusters + other.clusters, tbus: tbus + other.tbus, links: links + other.links)
    }

    /// The TBUs of `cluster` that work, by physical index, of `tbusPerCluster`.
    public func workingTBUs(of cluster: Int, tbusPerCluster: Int) -> [Int] {
        if clusters.contains(cluster) { return [] }
        let dead = Set(tbus.lazy.filter { $0.cluster == cluster }.map(\.tbu))
        return (0..<tbusPerCluster).filter { !dead.contains($0) }
    }
}
