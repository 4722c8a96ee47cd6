import Scheduling

extension TaskType: WireCodable {
    func write(to w: inout ByteWriter) {
        w.u16(workflow)
        w.u16(block)
    }

    init(from r: inout ByteReader) throws {
        self.init(workflow: Int(try r.u16()), block: Int(try r.u16()))
    }
}
