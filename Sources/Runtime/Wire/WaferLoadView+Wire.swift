import Scheduling

extension WaferLoadView: WireCodable {
    func write(to w: inout ByteWriter) {
        w.u64(time)
        w.write(clusters)
        w.write(plan)
    }

    init(from r: inout ByteReader) throws {
        let time = try r.u64()
        let clusters = try r.readArray(ClusterLoad.self)
        self.init(time: time, clusters: clusters, plan: try r.read(WaferPlan.self))
    }
}
