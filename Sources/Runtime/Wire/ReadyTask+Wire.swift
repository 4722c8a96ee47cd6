import Emulation

extension ReadyTask: WireCodable {
    func write(to w: inout ByteWriter) {
        w.write(task)
        w.i32(origin)
        w.i32(pinned)
    }

    init(from r: inout ByteReader) throws {
        self.init(task: try r.read(), origin: try r.i32(), pinned: try r.i32())
    }
}
