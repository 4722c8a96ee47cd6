import Scheduling

extension BalanceSignal: WireCodable {
    func write(to w: inout ByteWriter) {
        w.u8(kind.rawValue)
        w.i32(cluster)
        w.u64(cycles)
        w.u32(count)
    }

    init(from r: inout ByteReader) throws {
        self.init(
            kind: try r.enumeration(Kind.self, what: "balance signal kind"), cluster: try r.i32(), cycles: try r.u64(),
            count: try r.u32())
    }
}
