import Emulation

extension TBURelease: WireCodable {
    func write(to w: inout ByteWriter) {
        w.i32(cluster)
        w.u16(units)
    }

    init(from r: inout ByteReader) throws {
        self.init(cluster: try r.i32(), units: try r.u16())
    }
}
