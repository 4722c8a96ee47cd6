import Emulation

extension Transit: WireCodable {
    func write(to w: inout ByteWriter) {
        w.write(task)
        w.i32(destination)
        w.u64(tail)
        w.u8(entering ? 1 : 0)
    }

    init(from r: inout ByteReader) throws {
        self.init(task: try r.read(), destination: try r.i32(), tail: try r.u64(), entering: try r.u8() != 0)
    }
}
