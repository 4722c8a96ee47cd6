import Scheduling

extension LoadViewUpdate: WireCodable {
    func write(to w: inout ByteWriter) {
        w.u64(time)
        w.write(clusters)
    }

    init(from r: inout ByteReader) throws {
        let time = try r.u64()
        self.init(time: time, clusters: try r.readArray(ClusterLoad.self))
    }
}
