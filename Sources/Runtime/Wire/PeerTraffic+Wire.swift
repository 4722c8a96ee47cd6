import Emulation

extension PeerTraffic: WireCodable {
    func write(to w: inout ByteWriter) {
        w.i32(Int32(destination))
        w.u32(count)
        w.u64(earliestArrival)
    }

    init(from r: inout ByteReader) throws {
        self.init(destination: Int(try r.i32()), count: try r.u32(), earliestArrival: try r.u64())
    }
}
