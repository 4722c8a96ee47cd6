import Emulation

extension FlowCredit: WireCodable {
    func write(to w: inout ByteWriter) { w.i32(cluster) }

    init(from r: inout ByteReader) throws { self.init(cluster: try r.i32()) }
}

extension CreditCount: WireCodable {
    func write(to w: inout ByteWriter) {
        w.i32(cluster)
        w.u32(count)
    }

    init(from r: inout ByteReader) throws { self.init(cluster: try r.i32(), count: try r.u32()) }
}

extension FlowStall: WireCodable {
    func write(to w: inout ByteWriter) {
        w.i32(cluster)
        w.u8(stalled ? 1 : 0)
        w.write(waiting)
        w.write(holding)
    }

    init(from r: inout ByteReader) throws {
        let cluster = try r.i32()
        let stalled = try r.u8()
        guard stalled < 2 else { throw WireError(description: "bad stall flag \(stalled)") }
        self.init(cluster: cluster, stalled: stalled == 1, waiting: try r.readArray(), holding: try r.readArray())
    }
}
