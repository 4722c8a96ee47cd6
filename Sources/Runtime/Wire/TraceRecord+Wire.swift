import Emulation
import Scheduling
import WaferModel

extension TraceRecord: WireCodable {
    /// Tag byte of each record kind (the wire format: never renumber).
    private enum Tag: UInt8 {
        case slice = 0
        case flowStart, flowEnd, queue, rejected, injected, inFlight, linkBusy
    }

    func write(to w: inout ByteWriter) {
        switch self {
        case .slice(let c, let unit, let start, let duration, let kind, let type, let request):
            w.u8(Tag.slice.rawValue)
            w.i32(c)
            w.u16(unit)
            w.u64(start)
            w.u64(duration)
            w.u8(kind.rawValue)
            w.write(type)
            w.u64(request)
        case .flowStart(let c, let unit, let time, let flow):
            w.u8(Tag.flowStart.rawValue)
            w.i32(c)
            w.u16(unit)
            w.u64(time)
            w.u64(flow)
        case .flowEnd(let c, let unit, let time, let flow):
            w.u8(Tag.flowEnd.rawValue)
            w.i32(c)
            w.u16(unit)
            w.u64(time)
            w.u64(flow)
        case .queue(let c, let time, let tasks, let busy, let pending):
            w.u8(Tag.queue.rawValue)
            w.i32(c)
            w.u64(time)
            w.u32(tasks)
            w.u16(busy)
            w.u64(pending)
        case .rejected(let c, let time, let request, let type):
            w.u8(Tag.rejected.rawValue)
            w.i32(c)
            w.u64(time)
            w.u64(request)
            w.write(type)
        case .injected(let time, let request, let workflow, let c):
            w.u8(Tag.injected.rawValue)
            w.u64(time)
            w.u64(request)
            w.u16(workflow)
            w.i32(c)
        case .inFlight(let time, let count):
            w.u8(Tag.inFlight.rawValue)
            w.u64(time)
            w.u32(count)
        case .linkBusy(let c, let resource, let start, let duration, let waited, let bytes):
            w.u8(Tag.linkBusy.rawValue)
            w.i32(c)
            w.u8(resource)
            w.u64(start)
            w.u64(duration)
            w.u64(waited)
            w.u64(bytes)
        }
    }

    init(from r: inout ByteReader) throws {
        switch try r.enumeration(Tag.self, what: "trace record") {
        case .slice:
            let c = try r.i32()
            let unit = try r.u16()
            let start = try r.u64()
            let duration = try r.u64()
            let kind = try r.enumeration(SliceKind.self, what: "slice kind")
            self = .slice(
                cluster: c, unit: unit, start: start, duration: duration, kind: kind, taskType: try r.read(),
                request: try r.u64())
        case .flowStart:
            self = .flowStart(cluster: try r.i32(), unit: try r.u16(), time: try r.u64(), flow: try r.u64())
        case .flowEnd: self = .flowEnd(cluster: try r.i32(), unit: try r.u16(), time: try r.u64(), flow: try r.u64())
        case .queue:
            self = .queue(
                cluster: try r.i32(), time: try r.u64(), tasks: try r.u32(), busyTBUs: try r.u16(),
                pendingCycles: try r.u64())
        case .rejected:
            let c = try r.i32()
            let time = try r.u64()
            let request = try r.u64()
            self = .rejected(cluster: c, time: time, request: request, taskType: try r.read())
        case .injected:
            self = .injected(time: try r.u64(), request: try r.u64(), workflow: try r.u16(), cluster: try r.i32())
        case .inFlight: self = .inFlight(time: try r.u64(), count: try r.u32())
        case .linkBusy:
            self = .linkBusy(
                cluster: try r.i32(), resource: try r.u8(), start: try r.u64(), duration: try r.u64(),
                waited: try r.u64(), bytes: try r.u64())
        }
    }
}

extension TimedTraceRecord: WireCodable {
    func write(to w: inout ByteWriter) {
        w.u64(time)
        w.write(record)
    }

    init(from r: inout ByteReader) throws {
        self.init(time: try r.u64(), record: try r.read())
    }
}
