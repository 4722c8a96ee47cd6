import Emulation
import Foundation
import WaferModel

/// Messages between the coordinator (ROUTER) and its clusters (DEALER). Every message is
/// `[tag, body]`; setup-time messages carry JSON, per-window messages the binary wire format
/// (`Wire/`).
///
/// ```
/// cluster → coordinator: REGISTER {cluster, pid, host}
/// coordinator → cluster: SETUP {config, library, scheduler, functional}
/// per round:             GRANT(window, end, speculative, restore, [correction of an earlier window],
///                              inputs, in-window envelopes)
///                        REPORT(window, next event, earliest output, events, absorbs,
///                               late absorption, envelopes, trace)
///                        (only clusters with something to do before the window's end are granted
///                        it; in a speculative window, those whose in-window inputs changed again)
/// at the end:            COLLECT(end) → STATS {…};  STOP → BYE
/// ```
///
/// Every message between clusters travels in the sender's REPORT and the receiver's next GRANT:
/// one message each way per cluster per round, and no connection between clusters. A process
/// hosting several clusters gets their grants of a round as one GRANTS message on its first
/// cluster's socket and answers with one REPORTS message there (each a list of (cluster, GRANT
/// or REPORT body)): one message each way per process per round.
enum ClusterProtocol {
    enum Tag: UInt8 {
        case register = 1
        case setup
        case grant
        case report
        case collect
        case stats
        case stop
        case bye
        case error
        case ping
        /// A cluster has decoded its setup and built its engine: it can run windows.
        case ready
        /// The grants of one round for several clusters of one process, and their reports.
        case grants
        case reports
    }

    /// The version of the per-window messages (GRANT, REPORT and what they carry). It changes
    /// whenever their layout does; a cluster of another version is refused at registration, so
    /// mixing builds across hosts fails with a clear message instead of a wire error mid-run.
    /// 2: grants may carry a correction, reports the late-absorption times.
    /// 3: GRANTS and REPORTS for the clusters of one process.
    /// 4: reports name the clusters of their process they ran together with.
    /// 5: STATS in binary (``ClusterStats`` as ``WireCodable``) instead of JSON.
    /// 6: a process hosting several clusters gets every grant through its first cluster (GRANTS),
    ///    even a single one, and watches only that socket while the wafer runs.
    /// 7: a GRANTS message carries each view update and plan once (``SharedMessages``); its
    ///    grants refer to them.
    /// 8: SETUP in binary: the workflow library as ``WireCodable`` instead of JSON.
    /// 9: STATS carry each TBU's open idle period apart (``TBUStats/openIdleStart``).
    static let version = 9

    struct Registration: Codable {
        var cluster: Int
        var pid: Int32
        var host: String
        /// The cluster's ``ClusterProtocol/version`` (absent: a build from before it was sent).
        var wire: Int?
        /// A random name of the process hosting the cluster, the same for every cluster it hosts
        /// (absent: one process per cluster). Pids and host names may repeat across containers.
        var process: String?
        /// The cluster process's build ID (``BuildInfo/id``; absent: unknown, or a build from
        /// before it was sent). Another build than the coordinator's is accepted, with a warning
        /// and a note in the summary, as long as it speaks the same window protocol.
        var build: String?

        /// Why the names in this registration cannot be printed in a log or an error (nil when
        /// they can): a host or process name is 1 to 255 bytes without control characters, so a
        /// peer cannot write terminal escapes, forged log lines or megabytes into the
        /// coordinator's messages and summary. A build ID is held to the same rule.
        var nameProblem: String? {
            for (field, name) in [("host", host), ("process", process), ("build", build)] {
                guard let name else { continue }
                let printable = !name.unicodeScalars.contains {
                    $0.properties.generalCategory == .control || $0.properties.generalCategory == .format
                }
                guard (1...255).contains(name.utf8.count), printable else {
                    return "its \(field) name is empty, longer than 255 bytes or has control characters"
                }
            }
            return nil
        }
    }

    /// What every cluster needs before its first window, the same for all (encoded once).
    struct Setup: Equatable {
        var config: WaferConfig
        var library: WorkflowLibrary
        /// The scheduler, in its text form (``Scheduler/description``).
        var scheduler: String
        /// Functional mode: task blocks compute on real tensors that travel with the task flows.
        var functional: Bool = false
    }

    /// A SETUP body: the wafer configuration as JSON (small, and read once), then the workflow
    /// library in the binary wire form (``WorkflowLibrary``: every cluster process decodes it at
    /// start, and as JSON that was most of a large wafer's start), the scheduler and the mode.
    static func encode(_ setup: Setup) throws -> [UInt8] {
        var w = ByteWriter(capacity: 64 * 1024)
        w.byteString(Array(try JSONEncoder().encode(setup.config)))
        w.write(setup.library)
        w.string(setup.scheduler)
        w.bool(setup.functional)
        return w.bytes
    }

    static func decodeSetup(_ body: [UInt8]) throws -> Setup {
        var r = ByteReader(body)
        let config = try decodeJSON(WaferConfig.self, try r.byteString())
        let setup = Setup(
            config: config, library: try r.read(), scheduler: try r.string(), functional: try r.bool())
        try r.expectEnd()
        return setup
    }

    /// A round of a window for one cluster (see ``WindowRun``).
    struct Grant: Equatable {
        var window: UInt64
        var end: Cycle
        /// Save the state before running (first run of a speculative window).
        var speculative: Bool
        /// Return to the state saved when this window first ran.
        var restore: Bool
        /// Envelopes for the cluster from earlier windows (taken before the snapshot).
        var inputs: [Envelope]
        /// Envelopes arriving inside the window (taken after the snapshot).
        var inWindow: [Envelope]
        /// An earlier speculative window to run again first (``WindowCorrection``).
        var correction: WindowCorrection? = nil
    }

    struct Report: Equatable {
        var window: UInt64
        var nextEvent: Cycle
        var earliestOutput: Cycle
        var events: UInt64
        var computeNanos: UInt64
        /// What the cluster would absorb (``ClusterEngine/absorbs``).
        var absorbs: AbsorbedMessages
        /// What it would have absorbed late in this (speculative) run (``LateAbsorption``).
        var lateAbsorption: LateAbsorption = .none
        /// Everything sent in the window, to peers and to the coordinator.
        var envelopes: [Envelope]
        var trace: [TimedTraceRecord]
        /// The clusters of its process it ran together with, itself included (empty: alone).
        var livePeers: [Int] = []
    }

    static func frames(_ tag: Tag, _ body: [UInt8] = []) -> [[UInt8]] { [[tag.rawValue], body] }

    /// One GRANTS or REPORTS message: for each cluster, its id and its GRANT or REPORT body.
    static func batch(_ tag: Tag, _ items: [(cluster: Int, body: [UInt8])]) -> [[UInt8]] {
        var w = ByteWriter(capacity: 8 + items.reduce(0) { $0 + 8 + $1.body.count })
        w.count(items.count)
        for item in items {
            w.u32(UInt32(item.cluster))
            w.byteString(item.body)
        }
        return frames(tag, w.bytes)
    }

    /// The (cluster, body) pairs of a REPORTS message.
    static func unbatch(_ body: [UInt8]) throws -> [(cluster: Int, body: [UInt8])] {
        var r = ByteReader(body)
        let items = try unbatch(&r)
        try r.expectEnd()
        return items
    }

    private static func unbatch(_ r: inout ByteReader) throws -> [(cluster: Int, body: [UInt8])] {
        let count = try r.count()
        var items: [(cluster: Int, body: [UInt8])] = []
        for _ in 0..<count {
            items.append((Int(try r.u32()), try r.byteString()))
        }
        return items
    }

    /// One GRANTS message: the messages its grants share (each written once), then for each
    /// cluster its id and its GRANT body, encoded with ``encode(_:sharing:)`` into `shared`.
    static func batchGrants(_ items: [(cluster: Int, body: [UInt8])], shared: SharedMessages) -> [[UInt8]] {
        var w = ByteWriter(capacity: 16 + items.reduce(0) { $0 + 8 + $1.body.count })
        w.write(shared.messages)
        w.count(items.count)
        for item in items {
            w.u32(UInt32(item.cluster))
            w.byteString(item.body)
        }
        return frames(.grants, w.bytes)
    }

    /// The shared messages and the (cluster, GRANT body) pairs of a GRANTS message; decode each
    /// body with ``decodeGrant(_:shared:)`` and these messages.
    static func unbatchGrants(_ body: [UInt8]) throws -> (shared: [Message], items: [(cluster: Int, body: [UInt8])]) {
        var r = ByteReader(body)
        let shared = try r.readArray(Message.self)
        let items = try unbatch(&r)
        try r.expectEnd()
        return (shared, items)
    }

    /// The view updates and plans of one GRANTS message, each written once: the coordinator
    /// broadcasts every view update and plan to every cluster, so a process hosting many
    /// clusters got the same bytes once per cluster in each GRANTS message and decoded them as
    /// often (on a 16×16 wafer in two processes, a fifth of the cluster process's work and of
    /// the coordinator's). Its grants refer to them by index; the process decodes each once and
    /// its clusters share the decoded value.
    struct SharedMessages {
        private(set) var messages: [Message] = []
        /// A few fields of each message, compared before the messages themselves: the merged
        /// views of clusters catching up share their time, so comparing two walked their
        /// entries, and comparing each new one with every earlier one was a sixth of the
        /// coordinator's work on a replayed trace with 64 clusters.
        private var fingerprints: [Fingerprint] = []

        /// Fields that differ between most distinct shared messages; equal messages have equal
        /// fingerprints.
        struct Fingerprint: Equatable {
            var kind: Int
            var time: Cycle
            var count: Int
            var publications: UInt32

            init(_ message: Message) {
                switch message {
                case .view(let update):
                    self.init(
                        kind: 0, time: update.time, count: update.clusters.count, publications: update.publications)
                case .plan(let plan):
                    self.init(kind: 1, time: Cycle(plan.epoch), count: plan.configure.count, publications: 0)
                default:
                    self.init(kind: 2, time: 0, count: 0, publications: 0)
                }
            }

            private init(kind: Int, time: Cycle, count: Int, publications: UInt32) {
                self.kind = kind
                self.time = time
                self.count = count
                self.publications = publications
            }
        }

        /// Whether `message` is of a kind shared (sent alike to many clusters).
        static func shares(_ message: Message) -> Bool {
            switch message {
            case .view, .plan: return true
            default: return false
            }
        }

        /// The index of `message` in the table, added when new. Only entries with its fingerprint
        /// are compared whole; broadcast copies share their arrays' storage, so comparing those
        /// stops at the first array.
        mutating func index(of message: Message) -> Int {
            let fingerprint = Fingerprint(message)
            for index in fingerprints.indices where fingerprints[index] == fingerprint {
                if messages[index] == message { return index }
            }
            messages.append(message)
            fingerprints.append(fingerprint)
            return messages.count - 1
        }
    }

    /// The encoded bytes of the view updates and plans in one round's lone grants, each message
    /// encoded once. The coordinator broadcasts one update to every cluster, and with a process
    /// per cluster every grant carried it encoded anew: on a 16×16 wafer, encoding grants was
    /// about a third of the coordinator's window work, mostly the same updates again. The bytes
    /// are those `Message.write` gives, so a grant reads the same either way.
    struct EncodedMessages {
        private var table = SharedMessages()
        private var encoded: [[UInt8]] = []

        /// `message` (a kind ``SharedMessages/shares(_:)``) as `Message.write` writes it.
        mutating func bytes(of message: Message) -> [UInt8] {
            let index = table.index(of: message)
            if index == encoded.count {
                var w = ByteWriter(capacity: 1024)
                w.write(message)
                encoded.append(w.bytes)
            }
            return encoded[index]
        }
    }

    static func json<T: Encodable>(_ tag: Tag, _ value: T) throws -> [[UInt8]] {
        frames(tag, Array(try JSONEncoder().encode(value)))
    }

    static func decodeJSON<T: Decodable>(_ type: T.Type, _ body: [UInt8]) throws -> T {
        do { return try JSONDecoder().decode(type, from: Data(body)) } catch {
            throw WireError(description: "malformed \(T.self): \(error)")
        }
    }

    /// Splits `[tag, body]`.
    static func parse(_ frames: [[UInt8]]) throws -> (Tag, [UInt8]) {
        guard frames.count == 2, frames[0].count == 1, let tag = Tag(rawValue: frames[0][0]) else {
            throw WireError(description: "unexpected frame layout (\(frames.count) frames)")
        }
        return (tag, frames[1])
    }

    static func encode(_ g: Grant) -> [[UInt8]] {
        var unshared: SharedMessages?
        return frames(.grant, encode(g, sharing: &unshared))
    }

    /// A GRANT body. With `sharing`, view updates and plans go into that table and the body
    /// refers to them (for a GRANTS message, ``batchGrants(_:shared:)``); without, it holds them.
    static func encode(_ g: Grant, sharing: inout SharedMessages?) -> [UInt8] {
        var memo = EncodedMessages()
        return encode(g, sharing: &sharing, memo: &memo)
    }

    /// ``encode(_:sharing:)``, a body that holds its view updates and plans taking their bytes
    /// from `memo` (one per round: the grants of a round carry the same ones).
    static func encode(_ g: Grant, sharing: inout SharedMessages?, memo: inout EncodedMessages) -> [UInt8] {
        var w = ByteWriter(capacity: 64 + (g.inputs.count + g.inWindow.count) * 64)
        w.u64(g.window)
        w.u64(g.end)
        w.u8((g.speculative ? 1 : 0) | (g.restore ? 2 : 0) | (g.correction != nil ? 4 : 0))
        if let correction = g.correction {
            w.u64(correction.window)
            w.u64(correction.end)
            write(correction.inWindow, to: &w, sharing: &sharing, memo: &memo)
        }
        write(g.inputs, to: &w, sharing: &sharing, memo: &memo)
        write(g.inWindow, to: &w, sharing: &sharing, memo: &memo)
        return w.bytes
    }

    /// The tag byte, in place of a message's own, of a reference to a shared message (followed
    /// by its index); never a ``MessageTag``.
    static let sharedReference: UInt8 = 0xFF

    private static func write(
        _ envelopes: [Envelope], to w: inout ByteWriter, sharing: inout SharedMessages?, memo: inout EncodedMessages
    ) {
        guard sharing != nil else {
            // As `w.write(envelopes)` writes them, the shared kinds' bytes from the memo.
            w.count(envelopes.count)
            for envelope in envelopes {
                guard SharedMessages.shares(envelope.message) else {
                    w.write(envelope)
                    continue
                }
                envelope.writeHeader(to: &w)
                w.raw(memo.bytes(of: envelope.message))
            }
            return
        }
        w.count(envelopes.count)
        for envelope in envelopes {
            guard SharedMessages.shares(envelope.message) else {
                w.write(envelope)
                continue
            }
            envelope.writeHeader(to: &w)
            w.u8(sharedReference)
            w.u32(UInt32(sharing!.index(of: envelope.message)))
        }
    }

    private static func readEnvelopes(_ r: inout ByteReader, shared: [Message]?) throws -> [Envelope] {
        guard let shared else { return try r.readArray() }
        let n = try r.count()
        var envelopes: [Envelope] = []
        envelopes.reserveCapacity(n)
        for _ in 0..<n {
            envelopes.append(
                try Envelope(from: &r) { r, tag in
                    guard tag == sharedReference else { return try Message(tag: tag, from: &r) }
                    let index = Int(try r.u32())
                    guard index < shared.count else {
                        throw WireError(
                            description: "a grant refers to shared message \(index) of \(shared.count)")
                    }
                    return shared[index]
                })
        }
        return envelopes
    }

    /// A GRANT body; `shared`: the messages of the GRANTS message it came in (nil for a lone
    /// GRANT, which may not refer to any).
    static func decodeGrant(_ body: [UInt8], shared: [Message]? = nil) throws -> Grant {
        var r = ByteReader(body)
        let window = try r.u64()
        let end = try r.u64()
        let flags = try r.u8()
        guard flags < 8 else { throw WireError(description: "bad grant flags \(flags)") }
        var correction: WindowCorrection?
        if flags & 4 != 0 {
            correction = WindowCorrection(
                window: try r.u64(), end: try r.u64(), inWindow: try readEnvelopes(&r, shared: shared))
        }
        let g = Grant(
            window: window, end: end, speculative: flags & 1 != 0, restore: flags & 2 != 0,
            inputs: try readEnvelopes(&r, shared: shared), inWindow: try readEnvelopes(&r, shared: shared),
            correction: correction)
        try r.expectEnd()
        return g
    }

    static func encode(_ report: Report) -> [[UInt8]] {
        var w = ByteWriter(capacity: 128 + report.envelopes.count * 64 + report.trace.count * 48)
        w.u64(report.window)
        w.u64(report.nextEvent)
        w.u64(report.earliestOutput)
        w.u64(report.events)
        w.u64(report.computeNanos)
        w.u8(report.absorbs.rawValue)
        w.u64(report.lateAbsorption.views)
        w.u64(report.lateAbsorption.balanceSignals)
        w.write(report.envelopes)
        w.write(report.trace)
        w.count(report.livePeers.count)
        for peer in report.livePeers { w.u32(UInt32(peer)) }
        return frames(.report, w.bytes)
    }

    static func decodeReport(_ body: [UInt8]) throws -> Report {
        var r = ByteReader(body)
        let window = try r.u64()
        let next = try r.u64()
        let earliest = try r.u64()
        let events = try r.u64()
        let nanos = try r.u64()
        let absorbs = AbsorbedMessages(rawValue: try r.u8())
        guard AbsorbedMessages.all.isSuperset(of: absorbs) else {
            throw WireError(description: "bad report flags \(absorbs.rawValue)")
        }
        let late = LateAbsorption(views: try r.u64(), balanceSignals: try r.u64())
        let envelopes = try r.readArray(Envelope.self)
        let trace = try r.readArray(TimedTraceRecord.self)
        let peers = try r.count()
        var livePeers: [Int] = []
        for _ in 0..<peers { livePeers.append(Int(try r.u32())) }
        try r.expectEnd()
        return Report(
            window: window, nextEvent: next, earliestOutput: earliest, events: events, computeNanos: nanos,
            absorbs: absorbs, lateAbsorption: late, envelopes: envelopes, trace: trace, livePeers: livePeers)
    }

    /// A cluster's statistics at the end of a run, as a STATS message.
    static func encodeStats(_ stats: ClusterStats) -> [[UInt8]] {
        var w = ByteWriter(capacity: 4096)
        w.write(stats)
        return frames(.stats, w.bytes)
    }

    static func decodeStats(_ body: [UInt8]) throws -> ClusterStats {
        do {
            var r = ByteReader(body)
            let stats = try r.read(ClusterStats.self)
            try r.expectEnd()
            return stats
        } catch let error as WireError {
            throw WireError(description: "malformed ClusterStats: \(error.description)")
        }
    }

    static func encodeCycle(_ tag: Tag, _ value: Cycle) -> [[UInt8]] {
        var w = ByteWriter(capacity: 8)
        w.u64(value)
        return frames(tag, w.bytes)
    }

    static func decodeCycle(_ body: [UInt8]) throws -> Cycle {
        var r = ByteReader(body)
        let v = try r.u64()
        try r.expectEnd()
        return v
    }
}
