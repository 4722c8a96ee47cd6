import Foundation
import Scheduling
import WaferModel

/// Streams trace records to a Chrome Trace Event JSON file (opened by ui.perfetto.dev and
/// chrome://tracing): one process per cluster and one for the coordinator, one thread per TBU/CBU,
/// `X` slices for block executions and reconfigurations, `s`/`f` flow events for task flows between
/// clusters, `C` counters for queue length and requests in flight, `M` metadata for names.
/// Timestamps are microseconds of virtual time.
///
/// Rendering and writing happen on a thread of their own (``TraceBatches``), so the run never
/// waits for JSON; ``close()`` and ``snapshot(to:)`` wait for everything appended before them. A
/// write error is reported by the next call. Events are rendered straight to UTF-8 bytes
/// (``JSONBytes``), with every name quoted once.
public final class ChromeTraceWriter: TraceSink {
    /// Set at the end of `init`: its writing closure refers to the writer.
    private var batches: TraceBatches!
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
        batches = TraceBatches(label: "octopus.trace-writer", backlog: backlog) { [weak self] windows in
            // A writer dropped without `close()` (a failed run) has nothing left to write.
            guard let self else { return }
            for lists in windows {
                for record in TraceOrder.merge(lists) { render(record) }
            }
            try flush()
        }
    }

    private func writeMetadata() {
        let coordinator = coordinatorPID
        metadata(pid: coordinator, tid: 0, "process_name", name: "coordinator")
        separate()
        out.append("{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":")
        out.append(coordinator)
        out.append(",\"tid\":0,\"args\":{\"sort_index\":-1}}")
        metadata(pid: coordinator, tid: TraceUnit.events, "thread_name", name: "events")
        metadata(pid: coordinator, tid: 1, "thread_name", name: "injections")
        let mesh = config.mesh
        for cluster in 0..<config.clusterCount {
            let pid = cluster + 1
            metadata(pid: pid, tid: 0, "process_name", name: TraceUnit.clusterName(cluster, config: config, mesh: mesh))
            separate()
            out.append("{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":")
            out.append(pid)
            out.append(",\"tid\":0,\"args\":{\"sort_index\":")
            out.append(cluster)
            out.append("}}")
            metadata(pid: pid, tid: TraceUnit.events, "thread_name", name: "events")
            for tbu in 0..<mesh.workingTBUs(of: cluster) {
                metadata(
                    pid: pid, tid: TraceUnit.tbu(tbu), "thread_name",
                    name: TraceUnit.tbuName(tbu, of: cluster, config: config, mesh: mesh))
            }
            for cbu in 0..<config.cluster.cbus {
                metadata(pid: pid, tid: TraceUnit.cbu(cbu), "thread_name", name: "CBU \(cbu)")
            }
            for track in TraceUnit.routerTracks(of: cluster, config: config, mesh: mesh) {
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
        try batches.append(lists)
    }

    /// Appends records already in order (written before this returns).
    public func append(_ records: [TraceRecord]) throws {
        try batches.sync {
            if let failure = batches.currentFailure { throw failure }
            for record in records { render(record) }
            try flush()
        }
    }

    /// Finishes the JSON document once everything appended is written. Further appends are errors.
    public func close() throws {
        try batches.sync {
            guard !closed else { return }
            if let failure = batches.currentFailure { throw failure }
            out.append("\n]}\n")
            try flush()
            closed = true
            try handle.close()
        }
    }

    /// Writes a complete, valid copy of everything traced so far to `path` (the live file stays open).
    public func snapshot(to target: String) throws {
        try batches.sync {
            if let failure = batches.currentFailure { throw failure }
            try flush()
            var data = try Data(contentsOf: URL(fileURLWithPath: path))
            data.append(Data("\n]}\n".utf8))
            try data.write(to: URL(fileURLWithPath: target))
        }
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

    /// Quoted labels and layer names, by block.
    private lazy var quotedNames = TraceLabelCache<[UInt8]>(library: library)
    /// Quoted workflow names, for injections.
    private lazy var quotedWorkflows: [[UInt8]] = library.workflows.map { JSONBytes.quoted($0.name) }
    private let clockMHz: UInt64

    private func quoted(_ label: TraceLabel, _ type: TaskType) -> [UInt8] {
        quotedNames.value(label, type, make: JSONBytes.quoted)
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

    /// `,"pid":P,"tid":T`: cluster `c`'s process is `c + 1`, cluster -1 the coordinator's.
    private func track(_ cluster: Int32, _ unit: UInt16) {
        out.append(",\"pid\":")
        out.append(cluster < 0 ? coordinatorPID : Int(cluster) + 1)
        out.append(",\"tid\":")
        out.append(UInt64(unit))
    }

    private func render(_ record: TraceRecord) {
        switch record {
        case .slice(let cluster, let unit, let start, let duration, let kind, let type, let request):
            guard let label = TraceLabel(kind) else {
                guard let name = quotedNames.operation(type, Int(request), make: JSONBytes.quoted) else { return }
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
            out.append("{\"ph\":\"X\",\"cat\":\"")
            out.append(label.category)
            out.append("\",\"name\":")
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
            // On a thread (not the whole process), so that the flow its block came by can end on it.
            out.append("{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"rejected\",\"name\":")
            out.append(quoted(.rejected, type))
            track(cluster, TraceUnit.events)
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
