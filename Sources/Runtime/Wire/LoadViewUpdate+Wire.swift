import Scheduling

extension LoadViewUpdate: WireCodable {
    func write(to w: inout ByteWriter) {
        w.u64(time)
        w.write(clusters)
        w.u32(publications)
    }

    init(from r: inout ByteReader) throws {
        let time = try r.u64()
        let clusters = try r.readArray(ClusterLoad.self)
        let publications = try r.u32()
        guard publications > 0 else { throw WireError(description: "a view update standing for no publication") }
        self.init(time: time, clusters: clusters, publications: publications)
    }
}
