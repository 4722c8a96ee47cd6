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
    private var buffer = ""
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
        buffer =
            "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"wafer\":\(Self.quote(config.name)),\"clock_mhz\":\(config.clockMHz)},\"traceEvents\":[\n"
        writeMetadata()
        try flush()
    }

    private func writeMetadata() {
        emit(
            "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":\(coordinatorPID),\"tid\":0,\"args\":{\"name\":\"coordinator\"}}"
        )
        emit(
            "{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":\(coordinatorPID),\"tid\":0,\"args\":{\"sort_index\":-1}}"
        )
        emit(
            "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":\(coordinatorPID),\"tid\":1,\"args\":{\"name\":\"injections\"}}"
        )
        let mesh = config.mesh
        for cluster in 0..<config.clusterCount {
            let pid = cluster + 1
            emit(
                "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":\(pid),\"tid\":0,\"args\":{\"name\":\(Self.quote(TraceUnit.clusterName(cluster, config: config)))}}"
            )
            emit(
                "{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":\(pid),\"tid\":0,\"args\":{\"sort_index\":\(cluster)}}"
            )
            for tbu in 0..<mesh.workingTBUs(of: cluster) {
                emit(
                    "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":\(pid),\"tid\":\(TraceUnit.tbu(tbu)),\"args\":{\"name\":\(Self.quote(TraceUnit.tbuName(tbu, of: cluster, config: config)))}}"
                )
            }
            for cbu in 0..<config.cluster.cbus {
                emit(
                    "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":\(pid),\"tid\":\(TraceUnit.cbu(cbu)),\"args\":{\"name\":\"CBU \(cbu)\"}}"
                )
            }
            for track in TraceUnit.routerTracks(of: cluster, config: config) {
                emit(
                    "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":\(pid),\"tid\":\(track.unit),\"args\":{\"name\":\(Self.quote(track.name))}}"
                )
            }
        }
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
            buffer += "\n]}\n"
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
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: Data(buffer.utf8))
        buffer.removeAll(keepingCapacity: true)
    }

    private func emit(_ event: String) {
        if !first { buffer += ",\n" }
        first = false
        buffer += event
        eventCount += 1
    }

    private func name(of type: TaskType) -> String {
        let graph = library[Int(type.workflow)]
        return "\(graph.name)/\(graph.blocks[Int(type.block)].name)"
    }

    /// `name(of:)` quoted, by workflow and block: most records are slices of a block, and quoting
    /// its name each time was a tenth of the writer's work.
    private lazy var quotedNames: [[String]] = (0..<library.workflows.count).map { workflow in
        library[workflow].blocks.indices.map { Self.quote(name(of: TaskType(workflow: workflow, block: $0))) }
    }

    private func render(_ record: TraceRecord) {
        switch record {
        case .slice(let cluster, let unit, let start, let duration, .task, let type, let request):
            emit(
                "{\"ph\":\"X\",\"cat\":\"task\",\"name\":\(quotedNames[Int(type.workflow)][Int(type.block)]),\"pid\":\(cluster + 1),\"tid\":\(unit),\"ts\":\(ts(start)),\"dur\":\(ts(duration)),\"args\":{\"request\":\(request),\"cycles\":\(duration)}}"
            )
        case .slice(let cluster, let unit, let start, let duration, let kind, let type, let request):
            let label: String
            let category: String
            switch kind {
            case .task:
                label = name(of: type)
                category = "task"
            case .reconfigure:
                label = "configure " + name(of: type)
                category = "reconfigure"
            case .control:
                label = name(of: type)
                category = "control"
            case .splitPart:
                label = name(of: type) + " (split part)"
                category = "split"
            case .blocked:
                label = "blocked: output to " + name(of: type)
                category = "blocked"
            case .operation:
                guard case .task(let block) = library[Int(type.workflow)].blocks[Int(type.block)].kind else { return }
                emit(
                    "{\"ph\":\"X\",\"cat\":\"layer\",\"name\":\(Self.quote(block.operations[Int(request)].name)),\"pid\":\(cluster + 1),\"tid\":\(unit),\"ts\":\(ts(start)),\"dur\":\(ts(duration)),\"args\":{\"cycles\":\(duration)}}"
                )
                return
            }
            emit(
                "{\"ph\":\"X\",\"cat\":\"\(category)\",\"name\":\(Self.quote(label)),\"pid\":\(cluster + 1),\"tid\":\(unit),\"ts\":\(ts(start)),\"dur\":\(ts(duration)),\"args\":{\"request\":\(request),\"cycles\":\(duration)}}"
            )
        case .flowStart(let cluster, let unit, let time, let flow):
            emit(
                "{\"ph\":\"s\",\"cat\":\"flow\",\"name\":\"task flow\",\"id\":\(flow),\"pid\":\(cluster + 1),\"tid\":\(unit),\"ts\":\(ts(time))}"
            )
        case .flowEnd(let cluster, let unit, let time, let flow):
            emit(
                "{\"ph\":\"f\",\"bp\":\"e\",\"cat\":\"flow\",\"name\":\"task flow\",\"id\":\(flow),\"pid\":\(cluster + 1),\"tid\":\(unit),\"ts\":\(ts(time))}"
            )
        case .queue(let cluster, let time, let tasks, let busy, let pending):
            emit(
                "{\"ph\":\"C\",\"name\":\"load\",\"pid\":\(cluster + 1),\"tid\":0,\"ts\":\(ts(time)),\"args\":{\"queued_tasks\":\(tasks),\"busy_tbus\":\(busy),\"queued_kcycles\":\(pending / 1000)}}"
            )
        case .rejected(let cluster, let time, let request, let type):
            emit(
                "{\"ph\":\"i\",\"s\":\"p\",\"cat\":\"rejected\",\"name\":\(Self.quote("rejected " + name(of: type))),\"pid\":\(cluster + 1),\"tid\":0,\"ts\":\(ts(time)),\"args\":{\"request\":\(request)}}"
            )
        case .injected(let time, let request, let workflow, let cluster):
            emit(
                "{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"inject\",\"name\":\(Self.quote(library[Int(workflow)].name)),\"pid\":\(coordinatorPID),\"tid\":1,\"ts\":\(ts(time)),\"args\":{\"request\":\(request),\"cluster\":\(cluster),\"cycle\":\(time)}}"
            )
        case .inFlight(let time, let count):
            emit(
                "{\"ph\":\"C\",\"name\":\"requests in flight\",\"pid\":\(coordinatorPID),\"tid\":0,\"ts\":\(ts(time)),\"args\":{\"requests\":\(count)}}"
            )
        case .linkBusy(let cluster, let resource, let start, let duration, let waited, let bytes):
            emit(
                "{\"ph\":\"X\",\"cat\":\"link\",\"name\":\"transfer\",\"pid\":\(cluster + 1),\"tid\":\(TraceUnit.router(Int(resource))),\"ts\":\(ts(start)),\"dur\":\(ts(duration)),\"args\":{\"bytes\":\(bytes),\"cycles\":\(duration),\"waited_cycles\":\(waited)}}"
            )
        }
    }

    /// Cycles → microseconds as an exact decimal string (integer arithmetic: deterministic).
    func ts(_ cycles: Cycle) -> String {
        let mhz = UInt64(config.clockMHz)
        let whole = cycles / mhz
        var fraction = (cycles % mhz) * 1_000_000 / mhz
        guard fraction > 0 else { return String(whole) }
        var digits = 6
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let text = String(fraction)
        return "\(whole)." + String(repeating: "0", count: digits - text.count) + text
    }

    /// A JSON string literal.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
