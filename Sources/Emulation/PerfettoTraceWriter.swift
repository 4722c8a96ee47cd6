import Collections
import Foundation
import Scheduling
import WaferModel

/// What a trace file writer offers the hosts, whatever its format.
public protocol TraceFileWriter: TraceSink {
    /// The file being written.
    var path: String { get }
    /// Events written so far.
    var eventCount: Int { get }
    /// Finishes the file once everything appended is written.
    func close() throws
    /// Writes a complete, valid copy of everything traced so far to `path`.
    func snapshot(to path: String) throws
}

extension ChromeTraceWriter: TraceFileWriter {}

/// The formats a run's trace can be written in.
public enum TraceFormat: String, CaseIterable, Sendable {
    /// Chrome Trace Event JSON (`trace.json`): readable by chrome://tracing and ui.perfetto.dev.
    case json
    /// Perfetto's native protobuf (`trace.pftrace`): TrackEvent packets, several times smaller.
    case perfetto

    /// The trace file's name in the output directory.
    public var fileName: String { self == .json ? "trace.json" : "trace.pftrace" }

    /// A writer of this format for `config` at `directory/fileName`.
    public func writer(directory: String, config: WaferConfig, library: WorkflowLibrary) throws -> TraceFileWriter {
        let path = (directory as NSString).appendingPathComponent(fileName)
        switch self {
        case .json: return try ChromeTraceWriter(path: path, config: config, library: library)
        case .perfetto: return try PerfettoTraceWriter(path: path, config: config, library: library)
        }
    }
}

/// Streams trace records as a Perfetto protobuf trace (`Trace { repeated TracePacket packet = 1 }`)
/// of TrackEvents: a process track per cluster and one for the coordinator, a thread track per
/// TBU/CBU, counter tracks for each cluster's load and the requests in flight, slices (begin/end)
/// for blocks, operations, reconfigurations and control blocks, instants carrying flow ids for
/// task flows, injections and rejections; event names are interned. The same records as the JSON
/// trace, in a form several times smaller that Perfetto reads natively.
///
/// A slice's end is held back until every event before it on its track has been written, so each
/// track's events come in time order with inner slices closed before outer ones; everything is
/// written when the file is closed. Timestamps are nanoseconds of virtual time.
///
/// Rendering, compression and writing happen on a thread of their own (``TraceBatches``), so the
/// run never waits for them. Chunks are cut by size after a record, never by how the run was cut
/// into windows, so one process and many write the same bytes.
public final class PerfettoTraceWriter: TraceFileWriter {
    /// Set at the end of `init`: its writing closure refers to the writer.
    private var batches: TraceBatches!
    private let handle: FileHandle
    private let config: WaferConfig
    private let library: WorkflowLibrary
    public let path: String
    public private(set) var eventCount = 0
    private var closed = false
    /// Packets not yet written, each framed as a `Trace.packet` field.
    private var buffer = ProtoWriter()
    /// Packets are written in zlib-compressed chunks (TracePacket `compressed_packets`, which
    /// Perfetto's trace processor and UI inflate natively) once this many bytes have gathered, and
    /// at the end: big enough to compress well, small enough that the last chunk, compressed
    /// after the run, takes little time.
    static let chunkBytes = 1 << 18
    /// zlib's level 4: on these packets 2.5 times faster than its default (6), for files 7% larger
    /// (still more than ten times smaller than the JSON trace).
    static let compressionLevel: Int32 = 4
    /// Interned event names and whether the sequence's incremental state has been set up.
    private var names: [String: UInt64] = [:]
    private var categories: [String: UInt64] = [:]
    private var started = false
    /// Slice ends waiting per track: (end time, order) — later-started slices end first on ties.
    private var pendingEnds: [UInt64: Heap<PendingEnd>] = [:]
    private var sliceOrder: UInt64 = 0

    struct PendingEnd: Comparable {
        var time: Cycle
        /// Negated start order: among equal end times the slice started last (the inner one) ends first.
        var order: Int64
        static func < (a: PendingEnd, b: PendingEnd) -> Bool { (a.time, a.order) < (b.time, b.order) }
    }

    static let sequence: UInt64 = 1

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
        writeTracks()
        try writeChunk()
        batches = TraceBatches(label: "octopus.perfetto-writer", backlog: backlog) { [weak self] windows in
            // A writer dropped without `close()` (a failed run) has nothing left to write.
            guard let self else { return }
            for lists in windows {
                for record in TraceOrder.merge(lists) {
                    render(record)
                    if buffer.bytes.count >= Self.chunkBytes { try writeChunk() }
                }
            }
        }
    }

    // MARK: Track identities

    var coordinatorPID: Int { config.clusterCount + 1 }
    /// Track uuids are numbered as the tracks are declared, so they stay one or two bytes long
    /// (keyed by kind, pid and unit packed into one integer).
    private var uuids: [UInt64: UInt64] = [:]
    private func uuid(_ kind: UInt64, _ pid: Int, _ unit: Int) -> UInt64 {
        let key = kind << 60 | UInt64(pid) << 24 | UInt64(unit)
        if let known = uuids[key] { return known }
        let next = UInt64(uuids.count + 1)
        uuids[key] = next
        return next
    }
    private func processTrack(_ pid: Int) -> UInt64 { uuid(1, pid, 0) }
    private func threadTrack(_ pid: Int, _ unit: Int) -> UInt64 { uuid(2, pid, unit) }
    /// The process of cluster `cluster`'s records: cluster -1 is the coordinator.
    private func pid(_ cluster: Int32) -> Int { cluster < 0 ? coordinatorPID : Int(cluster) + 1 }
    private func counterTrack(_ pid: Int, _ index: Int) -> UInt64 { uuid(3, pid, index) }

    private func writeTracks() {
        process(pid: coordinatorPID, name: "coordinator")
        thread(pid: coordinatorPID, unit: Int(TraceUnit.events), name: "events")
        thread(pid: coordinatorPID, unit: 1, name: "injections")
        counter(counterTrack(coordinatorPID, 0), parent: processTrack(coordinatorPID), name: "requests in flight")
        let mesh = config.mesh
        for cluster in 0..<config.clusterCount {
            let pid = cluster + 1
            process(pid: pid, name: TraceUnit.clusterName(cluster, config: config, mesh: mesh))
            thread(pid: pid, unit: Int(TraceUnit.events), name: "events")
            for tbu in 0..<mesh.workingTBUs(of: cluster) {
                thread(
                    pid: pid, unit: Int(TraceUnit.tbu(tbu)),
                    name: TraceUnit.tbuName(tbu, of: cluster, config: config, mesh: mesh))
            }
            for cbu in 0..<config.cluster.cbus { thread(pid: pid, unit: Int(TraceUnit.cbu(cbu)), name: "CBU \(cbu)") }
            for track in TraceUnit.routerTracks(of: cluster, config: config, mesh: mesh) {
                thread(pid: pid, unit: Int(track.unit), name: track.name)
            }
            for (index, name) in ["queued tasks", "busy TBUs", "queued kcycles"].enumerated() {
                counter(counterTrack(pid, index), parent: processTrack(pid), name: name)
            }
        }
    }

    private func process(pid: Int, name: String) {
        var descriptor = ProtoWriter()
        descriptor.varint(1, processTrack(pid))
        var process = ProtoWriter()
        process.varint(1, UInt64(pid))
        process.string(6, name)
        descriptor.message(3, process)
        packet { $0.message(60, descriptor) }
    }

    private func thread(pid: Int, unit: Int, name: String) {
        var descriptor = ProtoWriter()
        descriptor.varint(1, threadTrack(pid, unit))
        descriptor.varint(5, processTrack(pid))
        var thread = ProtoWriter()
        thread.varint(1, UInt64(pid))
        thread.varint(2, UInt64(pid * 10_000 + unit))
        thread.string(5, name)
        descriptor.message(4, thread)
        packet { $0.message(60, descriptor) }
    }

    private func counter(_ uuid: UInt64, parent: UInt64, name: String) {
        var descriptor = ProtoWriter()
        descriptor.varint(1, uuid)
        descriptor.string(2, name)
        descriptor.varint(5, parent)
        descriptor.message(8, ProtoWriter())
        packet { $0.message(60, descriptor) }
    }

    /// Appends one TracePacket (field 1 of Trace) built by `fill`.
    private func packet(_ fill: (inout ProtoWriter) -> Void) {
        var packet = ProtoWriter()
        fill(&packet)
        buffer.message(1, packet)
    }

    // MARK: Events

    private func nanoseconds(_ cycles: Cycle) -> UInt64 {
        // Exact for whole-MHz clocks dividing 1000; otherwise rounded down to the nanosecond.
        cycles.multipliedReportingOverflow(by: 1000).overflow
            ? cycles / UInt64(config.clockMHz) * 1000 : cycles * 1000 / UInt64(config.clockMHz)
    }

    /// InternedData for the next named event: the names and categories it is the first to use.
    private var interning = ProtoWriter()
    /// Interned ids of labels and layer names, by block.
    private lazy var labelIIDs = TraceLabelCache<UInt64>(library: library)
    /// Interned ids of the categories, by label (0: not yet interned).
    private var labelCategoryIIDs = Array(repeating: UInt64(0), count: TraceLabel.allCases.count)
    /// Scratch messages, reused so an event allocates nothing.
    private var trackEvent = ProtoWriter()
    private var packetBody = ProtoWriter()

    /// The iid of `text` in `table`, interning it (InternedData field `field`) with the next
    /// named event when new.
    private func intern(_ text: String, _ table: inout [String: UInt64], field: Int) -> UInt64 {
        if let known = table[text] { return known }
        let next = UInt64(table.count + 1)
        table[text] = next
        var entry = ProtoWriter()
        entry.varint(1, next)
        entry.string(2, text)
        interning.message(field, entry)
        return next
    }

    private func nameIID(_ text: String) -> UInt64 { intern(text, &names, field: 2) }
    private func categoryIID(_ text: String) -> UInt64 { intern(text, &categories, field: 1) }

    private func nameIID(_ label: TraceLabel, _ type: TaskType) -> UInt64 {
        labelIIDs.value(label, type) { nameIID($0) }
    }

    private func categoryIID(_ label: TraceLabel) -> UInt64 {
        if labelCategoryIIDs[label.rawValue] == 0 {
            labelCategoryIIDs[label.rawValue] = categoryIID(label.category.description)
        }
        return labelCategoryIIDs[label.rawValue]
    }

    /// Writes one TrackEvent on `track` at `time`, named by the interned ids `name` and `category`
    /// (a named event carries the names it is the first to use).
    private func event(
        _ type: UInt64, track: UInt64, at time: Cycle, name: UInt64?, category: UInt64? = nil, counter: Int64? = nil,
        extraCounters: [(track: UInt64, value: Int64)] = [], flow: UInt64? = nil, terminatingFlow: UInt64? = nil
    ) {
        trackEvent.reset()
        trackEvent.varint(9, type)
        trackEvent.varint(11, track)
        if let name { trackEvent.varint(10, name) }
        if let category { trackEvent.varint(3, category) }
        if let counter { trackEvent.varint(30, UInt64(bitPattern: counter)) }
        for extra in extraCounters {
            trackEvent.varint(31, extra.track)
            trackEvent.varint(12, UInt64(bitPattern: extra.value))
        }
        if let flow { trackEvent.fixed64(47, flow) }
        if let terminatingFlow { trackEvent.fixed64(48, terminatingFlow) }
        packetBody.reset()
        packetBody.varint(8, nanoseconds(time))
        packetBody.varint(10, Self.sequence)
        if name != nil || category != nil, !interning.bytes.isEmpty {
            packetBody.message(12, interning)
            interning.reset()
        }
        // Events that use interned names need the sequence's state; the first clears it.
        if !started || name != nil { packetBody.varint(13, started ? 2 : 3) }
        packetBody.message(11, trackEvent)
        buffer.message(1, packetBody)
        started = true
        eventCount += 1
    }

    /// Writes the slice ends on `track` due at or before `time`.
    private func flushEnds(_ track: UInt64, upTo time: Cycle) {
        while let next = pendingEnds[track]?.min, next.time <= time {
            _ = pendingEnds[track]?.popMin()
            event(2, track: track, at: next.time, name: nil)
        }
    }

    private func slice(_ track: UInt64, start: Cycle, duration: Cycle, name: UInt64, category: UInt64) {
        flushEnds(track, upTo: start)
        event(1, track: track, at: start, name: name, category: category)
        sliceOrder += 1
        pendingEnds[track, default: Heap()].insert(PendingEnd(time: start + duration, order: -Int64(sliceOrder)))
    }

    private func instant(
        _ track: UInt64, at time: Cycle, name: UInt64, category: UInt64, flow: UInt64? = nil,
        terminatingFlow: UInt64? = nil
    ) {
        flushEnds(track, upTo: time)
        event(3, track: track, at: time, name: name, category: category, flow: flow, terminatingFlow: terminatingFlow)
    }

    private func render(_ record: TraceRecord) {
        switch record {
        case .slice(let cluster, let unit, let start, let duration, let kind, let type, let request):
            let track = threadTrack(pid(cluster), Int(unit))
            if let label = TraceLabel(kind) {
                slice(
                    track, start: start, duration: duration, name: nameIID(label, type), category: categoryIID(label))
            } else {
                guard let name = labelIIDs.operation(type, Int(request), make: { nameIID($0) }) else { return }
                slice(track, start: start, duration: duration, name: name, category: categoryIID("layer"))
            }
        case .flowStart(let cluster, let unit, let time, let flow):
            instant(
                threadTrack(pid(cluster), Int(unit)), at: time, name: nameIID("task flow out"),
                category: categoryIID("flow"), flow: flow)
        case .flowEnd(let cluster, let unit, let time, let flow):
            instant(
                threadTrack(pid(cluster), Int(unit)), at: time, name: nameIID("task flow in"),
                category: categoryIID("flow"), terminatingFlow: flow)
        case .queue(let cluster, let time, let tasks, let busy, let pending):
            // One event sets all three of the cluster's counters.
            let process = pid(cluster)
            event(
                4, track: counterTrack(process, 0), at: time, name: nil, counter: Int64(tasks),
                extraCounters: [
                    (counterTrack(process, 1), Int64(busy)), (counterTrack(process, 2), Int64(pending / 1000)),
                ])
        case .rejected(let cluster, let time, _, let type):
            instant(
                threadTrack(pid(cluster), Int(TraceUnit.events)), at: time, name: nameIID(.rejected, type),
                category: categoryIID(.rejected))
        case .injected(let time, _, let workflow, _):
            instant(
                threadTrack(coordinatorPID, 1), at: time, name: nameIID(library[Int(workflow)].name),
                category: categoryIID("inject"))
        case .inFlight(let time, let count):
            event(4, track: counterTrack(coordinatorPID, 0), at: time, name: nil, counter: Int64(count))
        case .linkBusy(let cluster, let resource, let start, let duration, let waited, let bytes):
            // Names are interned: byte counts repeat, wait times would not (Chrome's JSON has both).
            slice(
                threadTrack(pid(cluster), Int(TraceUnit.router(Int(resource)))), start: start, duration: duration,
                name: nameIID("transfer \(bytes) B" + (waited > 0 ? " (queued)" : "")), category: categoryIID("link"))
        }
    }

    // MARK: TraceSink

    public func append(window lists: [[TimedTraceRecord]]) throws {
        try batches.append(lists)
    }

    public func close() throws {
        try batches.sync {
            guard !closed else { return }
            if let failure = batches.currentFailure { throw failure }
            for track in pendingEnds.keys.sorted() { flushEnds(track, upTo: .max) }
            try writeChunk()
            closed = true
            try handle.close()
        }
    }

    public func snapshot(to target: String) throws {
        try batches.sync {
            if let failure = batches.currentFailure { throw failure }
            var data = try Data(contentsOf: URL(fileURLWithPath: path))
            // The slices still open end where they will end: close them in the copy only, and
            // leave the live file's chunks as they would have been without the copy.
            let saved = (pendingEnds, eventCount, started, buffer)
            for track in pendingEnds.keys.sorted() { flushEnds(track, upTo: .max) }
            data.append(contentsOf: Self.compressedChunk(buffer.bytes))
            (pendingEnds, eventCount, started, buffer) = saved
            try data.write(to: URL(fileURLWithPath: target))
        }
    }

    /// `packets` (framed `Trace.packet` fields) as one `Trace.packet` whose `compressed_packets`
    /// holds them zlib-compressed; nothing for no packets.
    static func compressedChunk(_ packets: [UInt8]) -> [UInt8] {
        guard !packets.isEmpty else { return [] }
        var compressed = ProtoWriter()
        compressed.blob(50, Zlib.compress(packets, level: compressionLevel))
        var outer = ProtoWriter()
        outer.message(1, compressed)
        return outer.bytes
    }

    /// Writes the gathered packets as one compressed chunk.
    private func writeChunk() throws {
        guard !buffer.bytes.isEmpty else { return }
        try handle.write(contentsOf: Self.compressedChunk(buffer.bytes))
        buffer.reset()
    }
}

/// A minimal protobuf encoder: varints, fixed64, strings and nested messages (wire types 0, 1, 2).
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    /// Empties the message, keeping its storage.
    mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    private mutating func raw(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private mutating func key(_ field: Int, _ wireType: UInt64) { raw(UInt64(field) << 3 | wireType) }

    mutating func varint(_ field: Int, _ value: UInt64) {
        key(field, 0)
        raw(value)
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        key(field, 1)
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func string(_ field: Int, _ text: String) { bytesField(field, Array(text.utf8)) }

    mutating func blob(_ field: Int, _ data: [UInt8]) { bytesField(field, data) }

    mutating func message(_ field: Int, _ message: ProtoWriter) { bytesField(field, message.bytes) }

    private mutating func bytesField(_ field: Int, _ data: [UInt8]) {
        key(field, 2)
        raw(UInt64(data.count))
        bytes += data
    }
}
