import Emulation
import Scheduling
import WaferModel

/// Binary encoding of envelopes and trace records: fixed-width little-endian fields, no
/// reflection, so a window's traffic costs little to encode.
enum WireCodec {
    // MARK: Envelopes

    static func write(_ e: Envelope, to w: inout ByteWriter) {
        w.i32(e.source.rawValue)
        w.i32(e.destination.rawValue)
        w.u64(e.sendTime)
        w.u64(e.arrival)
        w.u64(e.sequence)
        switch e.message {
        case .task(let t):
            w.u8(0)
            write(t, to: &w)
        case .outcome(let o):
            w.u8(1)
            w.u64(o.request); w.u16(o.workflow); w.u64(o.injected); w.u64(o.finished)
            w.u8(o.status.rawValue); w.u32(o.tasksDone); w.i32(o.cluster)
        case .load(let l):
            w.u8(2)
            write(l, to: &w)
        case .view(let v):
            w.u8(3)
            w.u64(v.time)
            w.count(v.clusters.count)
            for l in v.clusters { write(l, to: &w) }
            write(v.plan, to: &w)
        case .ready(let ready):
            w.u8(4)
            write(ready.task, to: &w)
            w.i32(ready.origin); w.i32(ready.pinned)
        case .release(let cluster, let units):
            w.u8(5); w.i32(cluster); w.u16(units)
        case .balance(let signal):
            w.u8(6); w.u8(signal.kind.rawValue); w.i32(signal.cluster); w.u64(signal.cycles); w.u32(signal.count)
        }
    }

    static func write(_ type: TaskType, to w: inout ByteWriter) {
        w.u16(type.workflow); w.u16(type.block)
    }

    static func readType(_ r: inout ByteReader) throws -> TaskType {
        TaskType(workflow: Int(try r.u16()), block: Int(try r.u16()))
    }

    static func write(_ plan: WaferPlan, to w: inout ByteWriter) {
        w.u32(plan.epoch)
        w.count(plan.reserved.count)
        for (cluster, tbus) in plan.reserved.enumerated() {
            w.count(tbus.count)
            for (tbu, types) in tbus.enumerated() {
                w.count(types.count)
                for (i, type) in types.enumerated() {
                    write(type, to: &w)
                    w.u64(plan.weights[cluster][tbu][i].bitPattern)
                }
                if let wanted = plan.configure[cluster][tbu] { w.u8(1); write(wanted, to: &w) } else { w.u8(0) }
            }
        }
    }

    static func readPlan(_ r: inout ByteReader) throws -> WaferPlan {
        let epoch = try r.u32()
        var reserved: [[[TaskType]]] = [], weights: [[[Double]]] = [], configure: [[TaskType?]] = []
        for _ in 0..<(try r.count()) {
            var clusterReserved: [[TaskType]] = [], clusterWeights: [[Double]] = [], clusterConfigure: [TaskType?] = []
            for _ in 0..<(try r.count()) {
                var types: [TaskType] = [], shares: [Double] = []
                for _ in 0..<(try r.count()) {
                    types.append(try readType(&r))
                    shares.append(Double(bitPattern: try r.u64()))
                }
                clusterReserved.append(types)
                clusterWeights.append(shares)
                switch try r.u8() {
                case 0: clusterConfigure.append(nil)
                case 1: clusterConfigure.append(try readType(&r))
                case let flag: throw WireError(description: "bad plan flag \(flag)")
                }
            }
            reserved.append(clusterReserved)
            weights.append(clusterWeights)
            configure.append(clusterConfigure)
        }
        return WaferPlan(epoch: epoch, reserved: reserved, weights: weights, configure: configure)
    }

    static func readEnvelope(_ r: inout ByteReader) throws -> Envelope {
        let source = ParticipantID(rawValue: try r.i32())
        let destination = ParticipantID(rawValue: try r.i32())
        let send = try r.u64(), arrival = try r.u64(), sequence = try r.u64()
        let message: Message
        switch try r.u8() {
        case 0: message = .task(try readTask(&r))
        case 1:
            let request = try r.u64(), workflow = try r.u16(), injected = try r.u64(), finished = try r.u64()
            guard let status = OutcomeStatus(rawValue: try r.u8()) else { throw WireError(description: "unknown outcome status") }
            let tasks = try r.u32(), cluster = try r.i32()
            message = .outcome(RequestOutcome(request: request, workflow: workflow, injected: injected, finished: finished,
                                              status: status, tasksDone: tasks, cluster: cluster))
        case 2: message = .load(try readLoad(&r))
        case 3:
            let time = try r.u64()
            let n = try r.count()
            var loads: [ClusterLoad] = []
            loads.reserveCapacity(n)
            for _ in 0..<n { loads.append(try readLoad(&r)) }
            message = .view(WaferLoadView(time: time, clusters: loads, plan: try readPlan(&r)))
        case 4:
            let task = try readTask(&r)
            message = .ready(ReadyTask(task: task, origin: try r.i32(), pinned: try r.i32()))
        case 5: message = .release(cluster: try r.i32(), units: try r.u16())
        case 6:
            guard let kind = BalanceSignal.Kind(rawValue: try r.u8()) else { throw WireError(description: "unknown balance signal kind") }
            message = .balance(BalanceSignal(kind: kind, cluster: try r.i32(), cycles: try r.u64(), count: try r.u32()))
        case let tag: throw WireError(description: "unknown message kind \(tag)")
        }
        return Envelope(source: source, destination: destination, sendTime: send, arrival: arrival, sequence: sequence, message: message)
    }

    static func write(_ t: TaskMessage, to w: inout ByteWriter) {
        w.u64(t.request); w.u16(t.taskType.workflow); w.u16(t.taskType.block)
        w.u64(t.bytes); w.u64(t.injected); w.u32(t.tasksDone); w.u64(t.flow)
        w.u8((t.failed ? 1 : 0) | (t.payload == nil ? 0 : 2))
        w.count(t.loops.count)
        for l in t.loops { w.u16(l.block); w.u32(l.iteration); w.u32(l.trips) }
        w.count(t.fanouts.count)
        for f in t.fanouts { w.i32(f.home); w.u32(f.id); w.u32(f.item); w.u16(f.join) }
        if let payload = t.payload {
            w.count(payload.shape.count)
            for d in payload.shape { w.u32(UInt32(d)) }
            w.floats(payload.values)
        }
    }

    static func readTask(_ r: inout ByteReader) throws -> TaskMessage {
        let request = try r.u64(), workflow = try r.u16(), block = try r.u16()
        let bytes = try r.u64(), injected = try r.u64(), done = try r.u32(), flow = try r.u64()
        let flags = try r.u8()
        guard flags < 4 else { throw WireError(description: "bad task flags \(flags)") }
        var loops: [LoopFrame] = []
        for _ in 0..<(try r.count()) { loops.append(LoopFrame(block: try r.u16(), iteration: try r.u32(), trips: try r.u32())) }
        var fanouts: [FanoutFrame] = []
        for _ in 0..<(try r.count()) { fanouts.append(FanoutFrame(home: try r.i32(), id: try r.u32(), item: try r.u32(), join: try r.u16())) }
        var payload: Tensor?
        if flags & 2 != 0 {
            var shape: [Int] = []
            for _ in 0..<(try r.count()) { shape.append(Int(try r.u32())) }
            let values = try r.floats()
            guard shape.reduce(1, { $0.multipliedReportingOverflow(by: $1).partialValue }) == values.count else {
                throw WireError(description: "tensor shape \(shape) does not hold \(values.count) values")
            }
            payload = Tensor(shape: shape, values: values)
        }
        return TaskMessage(request: request, taskType: TaskType(workflow: Int(workflow), block: Int(block)), bytes: bytes,
                           injected: injected, tasksDone: done, flow: flow, loops: loops, fanouts: fanouts,
                           failed: flags & 1 != 0, payload: payload)
    }

    static func write(_ l: ClusterLoad, to w: inout ByteWriter) {
        w.i32(Int32(l.cluster)); w.i32(Int32(l.tbus)); w.i32(Int32(l.busyTBUs)); w.i32(Int32(l.queuedTasks)); w.u64(l.pendingCycles)
        w.count(l.byType.count)
        for t in l.byType { w.u16(t.taskType.workflow); w.u16(t.taskType.block); w.i32(Int32(t.queuedTasks)); w.u64(t.pendingCycles) }
        w.count(l.configurations.count)
        for c in l.configurations {
            if let c { w.u8(1); w.u16(c.workflow); w.u16(c.block) } else { w.u8(0) }
        }
        w.count(l.finished.count)
        for f in l.finished { write(f.taskType, to: &w); w.u32(f.runs); w.u64(f.cycles.bitPattern); w.u64(f.squares.bitPattern) }
        w.count(l.running.count)
        for t in l.running { write(t, to: &w) }
    }

    static func readLoad(_ r: inout ByteReader) throws -> ClusterLoad {
        var load = ClusterLoad(cluster: Int(try r.i32()), tbus: Int(try r.i32()), busyTBUs: Int(try r.i32()),
                               queuedTasks: Int(try r.i32()), pendingCycles: try r.u64())
        for _ in 0..<(try r.count()) {
            let wf = try r.u16(), block = try r.u16()
            load.byType.append(TaskTypeLoad(taskType: TaskType(workflow: Int(wf), block: Int(block)), queuedTasks: Int(try r.i32()), pendingCycles: try r.u64()))
        }
        for _ in 0..<(try r.count()) {
            switch try r.u8() {
            case 0: load.configurations.append(nil)
            case 1: load.configurations.append(TaskType(workflow: Int(try r.u16()), block: Int(try r.u16())))
            case let flag: throw WireError(description: "bad configuration flag \(flag)")
            }
        }
        for _ in 0..<(try r.count()) {
            let type = try readType(&r)
            load.finished.append(TypeRuns(taskType: type, runs: try r.u32(), cycles: Double(bitPattern: try r.u64()), squares: Double(bitPattern: try r.u64())))
        }
        for _ in 0..<(try r.count()) { load.running.append(try readType(&r)) }
        return load
    }

    static func write(_ envelopes: [Envelope], to w: inout ByteWriter) {
        w.count(envelopes.count)
        for e in envelopes { write(e, to: &w) }
    }

    static func readEnvelopes(_ r: inout ByteReader) throws -> [Envelope] {
        let n = try r.count()
        var result: [Envelope] = []
        result.reserveCapacity(n)
        for _ in 0..<n { result.append(try readEnvelope(&r)) }
        return result
    }

    // MARK: Trace records

    static func write(_ records: [TraceRecord], to w: inout ByteWriter) {
        w.count(records.count)
        for record in records {
            switch record {
            case .slice(let c, let unit, let start, let duration, let kind, let type, let request):
                w.u8(0); w.i32(c); w.u16(unit); w.u64(start); w.u64(duration); w.u8(kind.rawValue)
                w.u16(type.workflow); w.u16(type.block); w.u64(request)
            case .flowStart(let c, let unit, let time, let flow):
                w.u8(1); w.i32(c); w.u16(unit); w.u64(time); w.u64(flow)
            case .flowEnd(let c, let unit, let time, let flow):
                w.u8(2); w.i32(c); w.u16(unit); w.u64(time); w.u64(flow)
            case .queue(let c, let time, let tasks, let busy, let pending):
                w.u8(3); w.i32(c); w.u64(time); w.u32(tasks); w.u16(busy); w.u64(pending)
            case .rejected(let c, let time, let request, let type):
                w.u8(4); w.i32(c); w.u64(time); w.u64(request); w.u16(type.workflow); w.u16(type.block)
            case .injected(let time, let request, let workflow, let c):
                w.u8(5); w.u64(time); w.u64(request); w.u16(workflow); w.i32(c)
            case .inFlight(let time, let count):
                w.u8(6); w.u64(time); w.u32(count)
            }
        }
    }

    static func readTrace(_ r: inout ByteReader) throws -> [TraceRecord] {
        let n = try r.count()
        var records: [TraceRecord] = []
        records.reserveCapacity(n)
        for _ in 0..<n {
            switch try r.u8() {
            case 0:
                let c = try r.i32(), unit = try r.u16(), start = try r.u64(), duration = try r.u64()
                guard let kind = SliceKind(rawValue: try r.u8()) else { throw WireError(description: "unknown slice kind") }
                let wf = try r.u16(), block = try r.u16(), request = try r.u64()
                records.append(.slice(cluster: c, unit: unit, start: start, duration: duration, kind: kind,
                                      taskType: TaskType(workflow: Int(wf), block: Int(block)), request: request))
            case 1: records.append(.flowStart(cluster: try r.i32(), unit: try r.u16(), time: try r.u64(), flow: try r.u64()))
            case 2: records.append(.flowEnd(cluster: try r.i32(), unit: try r.u16(), time: try r.u64(), flow: try r.u64()))
            case 3: records.append(.queue(cluster: try r.i32(), time: try r.u64(), tasks: try r.u32(), busyTBUs: try r.u16(), pendingCycles: try r.u64()))
            case 4:
                let c = try r.i32(), time = try r.u64(), request = try r.u64(), wf = try r.u16(), block = try r.u16()
                records.append(.rejected(cluster: c, time: time, request: request, taskType: TaskType(workflow: Int(wf), block: Int(block))))
            case 5: records.append(.injected(time: try r.u64(), request: try r.u64(), workflow: try r.u16(), cluster: try r.i32()))
            case 6: records.append(.inFlight(time: try r.u64(), count: try r.u32()))
            case let tag: throw WireError(description: "unknown trace record \(tag)")
            }
        }
        return records
    }
}
