import Foundation
import Scheduling
import WaferModel

/// Streams trace records to a Chrome Trace Event JSON file (opened by ui.perfetto.dev and
/// chrome://tracing): one process per cluster and one for the coordinator, one thread per TBU/CBU,
/// `X` slices for block executions and reconfigurations, `s`/`f` flow events for task flows between
/// clusters, `C` counters for queue length and requests in flight, `M` metadata for names.
/// Timestamps are microseconds of virtual time.
///
/// Rendering and writing happen on a thread of their own, so the run never waits for JSON. Windows
/// are handed over in batches (``batchRecords`` records, or every ``batchSeconds`` of wall time):
/// handing over each window woke that thread and wrote the file once per window, which on a
/// wafer of many short windows cost the coordinator more than the rendering. At most `backlog`
/// batches are in flight, and ``close()`` and ``snapshot(to:)`` wait for everything appended
/// before them. A write error is reported by the next call.
public final class ChromeTraceWriter: TraceSink {
    private let queue = DispatchQueue(label: "octopus.trace-writer")
    private let inFlight: DispatchSemaphore
    /// Windows appended and not yet handed to the writer's thread (touched only by the appender).
    private var pending: [[[TimedTraceRecord]]] = []
    private var pendingRecords = 0
    private var lastHandOver = DispatchTime.now().uptimeNanoseconds
    /// A batch is handed over once it holds this many records…
    public static let batchRecords = 4096
    /// …or this long after the last one, so a slow run's trace file still follows it.
    public static let batchSeconds = 0.2
    /// The first write error (guarded by `failureLock`: it is read off the writer's queue).
    private var failure: Error?
    private let failureLock = NSLock()
    private let handle: FileHandle
    private let config: WaferConfig
    private let library: WorkflowLibrary
    private let coordinatorPID: Int
    /// Rendered text not yet written (touched only on the writer's queue, and by `init`).
    private var out = JSONBytes()
    private var first = true
    private var closed = false
    public let path: String
    /// Events written so far.
    public private(set) var eventCount = 0

    /// Creates (truncates) `path` and writes the metadata events.
    public init(path: String, config: WaferConfig, library: WorkflowLibrary, backlog: Int = 256) throws {
        inFlight = DispatchSemaphore(value: backlog)
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        self.path = path
        self.handle = handle
        self.config = config
        self.library = library
        coordinatorPID = config.clusterCount + 1
        clockMHz = UInt64(config.clockMHz)
        out.append("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"wafer\":")
        out.append(JSONBytes.quoted(config.name))
        out.append(",\"clock_mhz\":")
        out.append(config.clockMHz)
        out.append("},\"traceEvents\":[\n")
        writeMetadata()
        try flush()
    }

    private func writeMetadata() {
        let coordinator = coordinatorPID
        metadata(pid: coordinator, tid: 0, "process_name", name: "coordinator")
        separate()
        out.append("{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":")
        out.append(coordinator)
        out.append(",\"tid\":0,\"args\":{\"sort_index\":-1}}")
        metadata(pid: coordinator, tid: 1, "thread_name", name: "injections")
        let mesh = config.mesh
        for cluster in 0..<config.clusterCount {
            let pid = cluster + 1
            metadata(pid: pid, tid: 0, "process_name", name: TraceUnit.clusterName(cluster, config: config))
            separate()
            out.append("{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":")
            out.append(pid)
            out.append(",\"tid\":0,\"args\":{\"sort_index\":")
            out.append(cluster)
            out.append("}}")
            for tbu in 0..<mesh.workingTBUs(of: cluster) {
                metadata(
                    pid: pid, tid: TraceUnit.tbu(tbu), "thread_name",
                    name: TraceUnit.tbuName(tbu, of: cluster, config: config))
            }
            for cbu in 0..<config.cluster.cbus {
                metadata(pid: pid, tid: TraceUnit.cbu(cbu), "thread_name", name: "CBU \(cbu)")
            }
            for track in TraceUnit.routerTracks(of: cluster, config: config) {
                metadata(pid: pid, tid: track.unit, "thread_name", name: track.name)
            }
        }
    }

    /// An `M` event naming a process or thread.
    private func metadata(pid: Int, tid: UInt16, _ kind: StaticString, name: String) {
        separate()
        out.append("{\"ph\":\"M\",\"name\":\"")
        out.append(kind)
        out.append("\",\"pid\":")
        out.append(pid)
        out.append(",\"tid\":")
        out.append(UInt64(tid))
        out.append(",\"args\":{\"name\":")
        out.append(JSONBytes.quoted(name))
        out.append("}}")
    }

    public func append(window lists: [[TimedTraceRecord]]) throws {
        try reportFailure()
        pending.append(lists)
        for list in lists { pendingRecords += list.count }
        let now = DispatchTime.now().uptimeNanoseconds
        if pendingRecords >= Self.batchRecords || Double(now - lastHandOver) / 1e9 >= Self.batchSeconds {
            handOver()
        }
    }

    /// Hands the pending windows to the writer's thread, in order.
    private func handOver() {
        guard !pending.isEmpty else { return }
        let windows = pending
        pending.removeAll(keepingCapacity: true)
        pendingRecords = 0
        lastHandOver = DispatchTime.now().uptimeNanoseconds
        inFlight.wait()
        queue.async { [self] in
            defer { inFlight.signal() }
            guard currentFailure == nil else { return }
            for lists in windows {
                for record in TraceOrder.merge(lists) { render(record) }
            }
            do { try flush() } catch {
                failureLock.lock()
                failure = error
                failureLock.unlock()
            }
        }
    }

    /// Appends records already in order (written before this returns).
    public func append(_ records: [TraceRecord]) throws {
        handOver()
        try queue.sync {
            for record in records { render(record) }
            try flush()
        }
    }

    /// Finishes the JSON document once everything appended is written. Further appends are errors.
    public func close() throws {
        handOver()
        try queue.sync {
            guard !closed else { return }
            if let failure = currentFailure { throw failure }
            out.append("\n]}\n")
            try flush()
            closed = true
            try handle.close()
        }
    }

    /// Writes a complete, valid copy of everything traced so far to `path` (the live file stays open).
    public func snapshot(to target: String) throws {
        handOver()
        try queue.sync {
            if let failure = currentFailure { throw failure }
            try flush()
            var data = try Data(contentsOf: URL(fileURLWithPath: path))
            data.append(Data("\n]}\n".utf8))
            try data.write(to: URL(fileURLWithPath: target))
        }
    }

    private var currentFailure: Error? {
        failureLock.lock()
        defer { failureLock.unlock() }
        return failure
    }

    private func reportFailure() throws {
        if let failure = currentFailure { throw failure }
    }

    private func flush() throws {
        guard !out.isEmpty else { return }
        try handle.write(contentsOf: out.bytes)
        out.removeAll()
    }

    /// Starts an event: the separator after the previous one.
    private func separate() {
        if !first { out.append(",\n") }
        first = false
        eventCount += 1
    }

    private func name(of type: TaskType) -> String {
        let graph = library[Int(type.workflow)]
        return "\(graph.name)/\(graph.blocks[Int(type.block)].name)"
    }

    /// Quoted names by workflow and block (`label(kind, name)` for each slice kind, and for
    /// rejections): most records name a block, and quoting its name each time was a tenth of the
    /// writer's work. Built on first use of each kind.
    private var quotedLabels: [[[UInt8]]?] = Array(repeating: nil, count: Label.allCases.count)
    /// Quoted layer names by workflow, block and operation, built on first use of each block.
    private var quotedOperations: [Int: [[UInt8]]] = [:]
    /// Quoted workflow names, for injections.
    private lazy var quotedWorkflows: [[UInt8]] = library.workflows.map { JSONBytes.quoted($0.name) }
    /// Index of the first block of each workflow in a flat table of blocks.
    private lazy var firstBlock: [Int] = {
        var offsets: [Int] = []
        var total = 0
        for workflow in library.workflows {
            offsets.append(total)
            total += workflow.blocks.count
        }
        return offsets
    }()
    private let clockMHz: UInt64

    /// What a slice or instant is labelled with.
    private enum Label: Int, CaseIterable {
        case task, reconfigure, control, splitPart, blocked, rejected

        func text(_ name: String) -> String {
            switch self {
            case .task, .control: return name
            case .reconfigure: return "configure " + name
            case .splitPart: return name + " (split part)"
            case .blocked: return "blocked: output to " + name
            case .rejected: return "rejected " + name
            }
        }
    }

    private func quoted(_ label: Label, _ type: TaskType) -> [UInt8] {
        let index = firstBlock[Int(type.workflow)] + Int(type.block)
        if let table = quotedLabels[label.rawValue] { return table[index] }
        var table: [[UInt8]] = []
        for (workflow, graph) in library.workflows.enumerated() {
            for block in graph.blocks.indices {
                table.append(JSONBytes.quoted(label.text(name(of: TaskType(workflow: workflow, block: block)))))
            }
        }
        quotedLabels[label.rawValue] = table
        return table[index]
    }

    private func quotedOperation(_ type: TaskType, _ operation: Int) -> [UInt8]? {
        let index = firstBlock[Int(type.workflow)] + Int(type.block)
        if let names = quotedOperations[index] { return names[operation] }
        guard case .task(let block) = library[Int(type.workflow)].blocks[Int(type.block)].kind else { return nil }
        let names = block.operations.map { JSONBytes.quoted($0.name) }
        quotedOperations[index] = names
        return names[operation]
    }

    /// `"ts":T` (and `,"dur":D`) in microseconds.
    private func time(_ start: Cycle, duration: Cycle? = nil) {
        out.append(",\"ts\":")
        out.appendMicroseconds(start, clockMHz: clockMHz)
        if let duration {
            out.append(",\"dur\":")
            out.appendMicroseconds(duration, clockMHz: clockMHz)
        }
    }

    /// `,"pid":P,"tid":T`.
    private func track(_ cluster: Int32, _ unit: UInt16) {
        out.append(",\"pid\":")
        out.append(Int(cluster) + 1)
        out.append(",\"tid\":")
        out.append(UInt64(unit))
    }

    private func render(_ record: TraceRecord) {
        switch record {
        case .slice(let cluster, let unit, let start, let duration, let kind, let type, let request):
            let label: Label
            switch kind {
            case .task:
                label = .task
            case .reconfigure:
                label = .reconfigure
            case .control:
                label = .control
            case .splitPart:
                label = .splitPart
            case .blocked:
                label = .blocked
            case .operation:
                guard let name = quotedOperation(type, Int(request)) else { return }
                separate()
                out.append("{\"ph\":\"X\",\"cat\":\"layer\",\"name\":")
                out.append(name)
                track(cluster, unit)
                time(start, duration: duration)
                out.append(",\"args\":{\"cycles\":")
                out.append(duration)
                out.append("}}")
                return
            }
            separate()
            out.append("{\"ph\":\"X\",\"cat\":")
            switch label {
            case .task: out.append("\"task\"")
            case .reconfigure: out.append("\"reconfigure\"")
            case .control: out.append("\"control\"")
            case .splitPart: out.append("\"split\"")
            case .blocked, .rejected: out.append("\"blocked\"")
            }
            out.append(",\"name\":")
            out.append(quoted(label, type))
            track(cluster, unit)
            time(start, duration: duration)
            out.append(",\"args\":{\"request\":")
            out.append(request)
            out.append(",\"cycles\":")
            out.append(duration)
            out.append("}}")
        case .flowStart(let cluster, let unit, let time, let flow):
            separate()
            out.append("{\"ph\":\"s\",\"cat\":\"flow\",\"name\":\"task flow\",\"id\":")
            out.append(flow)
            track(cluster, unit)
            self.time(time)
            out.append("}")
        case .flowEnd(let cluster, let unit, let time, let flow):
            separate()
            out.append("{\"ph\":\"f\",\"bp\":\"e\",\"cat\":\"flow\",\"name\":\"task flow\",\"id\":")
            out.append(flow)
            track(cluster, unit)
            self.time(time)
            out.append("}")
        case .queue(let cluster, let time, let tasks, let busy, let pending):
            separate()
            out.append("{\"ph\":\"C\",\"name\":\"load\"")
            track(cluster, 0)
            self.time(time)
            out.append(",\"args\":{\"queued_tasks\":")
            out.append(UInt64(tasks))
            out.append(",\"busy_tbus\":")
            out.append(UInt64(busy))
            out.append(",\"queued_kcycles\":")
            out.append(pending / 1000)
            out.append("}}")
        case .rejected(let cluster, let time, let request, let type):
            separate()
            out.append("{\"ph\":\"i\",\"s\":\"p\",\"cat\":\"rejected\",\"name\":")
            out.append(quoted(.rejected, type))
            track(cluster, 0)
            self.time(time)
            out.append(",\"args\":{\"request\":")
            out.append(request)
            out.append("}}")
        case .injected(let time, let request, let workflow, let cluster):
            separate()
            out.append("{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"inject\",\"name\":")
            out.append(quotedWorkflows[Int(workflow)])
            out.append(",\"pid\":")
            out.append(coordinatorPID)
            out.append(",\"tid\":1")
            self.time(time)
            out.append(",\"args\":{\"request\":")
            out.append(request)
            out.append(",\"cluster\":")
            out.append(Int(cluster))
            out.append(",\"cycle\":")
            out.append(time)
            out.append("}}")
        case .inFlight(let time, let count):
            separate()
            out.append("{\"ph\":\"C\",\"name\":\"requests in flight\",\"pid\":")
            out.append(coordinatorPID)
            out.append(",\"tid\":0")
            self.time(time)
            out.append(",\"args\":{\"requests\":")
            out.append(UInt64(count))
            out.append("}}")
        case .linkBusy(let cluster, let resource, let start, let duration, let waited, let bytes):
            separate()
            out.append("{\"ph\":\"X\",\"cat\":\"link\",\"name\":\"transfer\"")
            track(cluster, TraceUnit.router(Int(resource)))
            time(start, duration: duration)
            out.append(",\"args\":{\"bytes\":")
            out.append(bytes)
            out.append(",\"cycles\":")
            out.append(duration)
            out.append(",\"waited_cycles\":")
            out.append(waited)
            out.append("}}")
        }
    }

    /// Cycles → microseconds as an exact decimal string (integer arithmetic: deterministic).
    func ts(_ cycles: Cycle) -> String {
        var text = JSONBytes()
        text.appendMicroseconds(cycles, clockMHz: clockMHz)
        return String(decoding: text.bytes, as: UTF8.self)
    }

    /// A JSON string literal.
    static func quote(_ text: String) -> String {
        String(decoding: JSONBytes.quoted(text), as: UTF8.self)
    }
}
