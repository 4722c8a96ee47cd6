import Scheduling

extension TaskTypeLoad: WireCodable {
    func write(to w: inout ByteWriter) {
        w.write(taskType)
        w.i32(Int32(queuedTasks))
        w.u64(pendingCycles)
    }

    init(from r: inout ByteReader) throws {
        self.init(taskType: try r.read(), queuedTasks: Int(try r.i32()), pendingCycles: try r.u64())
    }
}

extension TypeRuns: WireCodable {
    func write(to w: inout ByteWriter) {
        w.write(taskType)
        w.u32(runs)
        w.u64(cycles.bitPattern)
        w.u64(squares.bitPattern)
    }

    init(from r: inout ByteReader) throws {
        self.init(
            taskType: try r.read(), runs: try r.u32(), cycles: Double(bitPattern: try r.u64()),
            squares: Double(bitPattern: try r.u64()))
    }
}

extension RequestBlock: WireCodable {
    func write(to w: inout ByteWriter) {
        w.u64(request)
        w.write(taskType)
    }

    init(from r: inout ByteReader) throws {
        self.init(request: try r.u64(), taskType: try r.read())
    }
}

extension ClusterLoad: WireCodable {
    func write(to w: inout ByteWriter) {
        w.i32(Int32(cluster))
        w.i32(Int32(tbus))
        w.i32(Int32(busyTBUs))
        w.i32(Int32(queuedTasks))
        w.u64(pendingCycles)
        w.write(byType)
        w.count(configurations.count)
        for configuration in configurations { w.write(optional: configuration) }
        w.write(finished)
        w.write(running)
        w.write(started)
    }

    init(from r: inout ByteReader) throws {
        self.init(
            cluster: Int(try r.i32()), tbus: Int(try r.i32()), busyTBUs: Int(try r.i32()),
            queuedTasks: Int(try r.i32()),
            pendingCycles: try r.u64())
        byType = try r.readArray()
        for _ in 0..<(try r.count()) {
            configurations.append(try r.readOptional(TaskType.self, what: "a TBU configuration"))
        }
        finished = try r.readArray()
        running = try r.readArray()
        started = try r.readArray()
    }
}
