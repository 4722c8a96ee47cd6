import Emulation
import Scheduling
import WaferModel

extension LoopFrame: WireCodable {
    func write(to w: inout ByteWriter) {
        w.u16(block)
        w.u32(iteration)
        w.u32(trips)
    }

    init(from r: inout ByteReader) throws {
        self.init(block: try r.u16(), iteration: try r.u32(), trips: try r.u32())
    }
}

extension FanoutFrame: WireCodable {
    func write(to w: inout ByteWriter) {
        w.i32(home)
        w.u32(id)
        w.u32(item)
        w.u16(join)
    }

    init(from r: inout ByteReader) throws {
        self.init(home: try r.i32(), id: try r.u32(), item: try r.u32(), join: try r.u16())
    }
}

extension Tensor: WireCodable {
    func write(to w: inout ByteWriter) {
        w.count(shape.count)
        for d in shape { w.u32(UInt32(d)) }
        w.floats(values)
    }

    init(from r: inout ByteReader) throws {
        var shape: [Int] = []
        for _ in 0..<(try r.count()) { shape.append(Int(try r.u32())) }
        let values = try r.floats()
        var elements: Int? = 1
        for d in shape {
            elements = elements.flatMap { $0.multipliedReportingOverflow(by: d) }.flatMap {
                $0.overflow ? nil : $0.partialValue
            }
        }
        guard elements == values.count else {
            throw WireError(description: "tensor shape \(shape) does not hold \(values.count) values")
        }
        self.init(shape: shape, values: values)
    }
}

extension TaskMessage: WireCodable {
    func write(to w: inout ByteWriter) {
        w.u64(request)
        w.write(taskType)
        w.u64(bytes)
        w.u64(injected)
        w.u32(tasksDone)
        w.u64(flow)
        w.u8((failed ? 1 : 0) | (payload == nil ? 0 : 2) | (parameters.isEmpty ? 0 : 4) | (credit == -1 ? 0 : 8))
        w.write(loops)
        w.write(fanouts)
        if let payload { w.write(payload) }
        if !parameters.isEmpty {
            w.count(parameters.count)
            for value in parameters { w.i32(value) }
        }
        if credit != -1 { w.i32(credit) }
    }

    init(from r: inout ByteReader) throws {
        let request = try r.u64()
        let type = try r.read(TaskType.self)
        let bytes = try r.u64()
        let injected = try r.u64()
        let done = try r.u32()
        let flow = try r.u64()
        let flags = try r.u8()
        guard flags < 16 else { throw WireError(description: "bad task flags \(flags)") }
        let loops = try r.readArray(LoopFrame.self)
        let fanouts = try r.readArray(FanoutFrame.self)
        let payload = flags & 2 != 0 ? try r.read(Tensor.self) : nil
        var parameters: [Int32] = []
        if flags & 4 != 0 {
            for _ in 0..<(try r.count()) { parameters.append(try r.i32()) }
        }
        self.init(
            request: request, taskType: type, bytes: bytes, injected: injected, tasksDone: done, flow: flow,
            loops: loops,
            fanouts: fanouts, failed: flags & 1 != 0, payload: payload, parameters: parameters)
        if flags & 8 != 0 { credit = try r.i32() }
    }
}
