import Emulation

extension RequestOutcome: WireCodable {
    func write(to w: inout ByteWriter) {
        w.u64(request)
        w.u16(workflow)
        w.u64(injected)
        w.u64(finished)
        w.u8(status.rawValue)
        w.u32(tasksDone)
        w.i32(cluster)
    }

    init(from r: inout ByteReader) throws {
        let request = try r.u64()
        let workflow = try r.u16()
        let injected = try r.u64()
        let finished = try r.u64()
        let status = try r.enumeration(OutcomeStatus.self, what: "outcome status")
        self.init(
            request: request, workflow: workflow, injected: injected, finished: finished, status: status,
            tasksDone: try r.u32(),
            cluster: try r.i32())
    }
}
