import Emulation
import Foundation
import WaferModel

/// Messages between the coordinator (ROUTER) and its clusters (DEALER). Every message is
/// `[tag, body]`; setup-time messages carry JSON, per-window messages the binary ``WireCodec``.
///
/// ```
/// cluster → coordinator: REGISTER {cluster, data_endpoint, pid, host}
/// coordinator → cluster: SETUP {cluster, config, library, scheduler, peers}
/// per window:            GRANT(window, end, peer messages sent so far, coordinator envelopes)
///                        REPORT(window, next event, earliest output, peer traffic, envelopes, trace)
///                        (only clusters with something to do before the window's end are granted it)
/// at the end:            COLLECT(end) → STATS {…};  STOP → BYE
/// cluster → peer (PUSH→PULL): BATCH(window, envelopes)
/// ```
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
    }

    struct Registration: Codable {
        var cluster: Int
        var dataEndpoint: String
        var pid: Int32
        var host: String
    }

    struct Setup: Codable {
        var cluster: Int
        var config: WaferConfig
        var library: WorkflowLibrary
        /// The scheduler, in its text form (``Scheduler/description``).
        var scheduler: String
        /// Data endpoint of every cluster, by id.
        var peers: [String]
        /// Functional mode: task blocks compute on real tensors that travel with the task flows.
        var functional: Bool = false
    }

    struct Grant {
        var window: UInt64
        var end: Cycle
        /// Envelopes peers have sent this cluster in all earlier windows: the cluster waits until it
        /// has them all before starting, so no message is in flight when a window starts.
        var expectedPeerMessages: UInt64
        var fromCoordinator: [Envelope]
    }

    struct Report {
        var window: UInt64
        var nextEvent: Cycle
        var earliestOutput: Cycle
        var events: UInt64
        var computeNanos: UInt64
        var peerTraffic: [PeerTraffic]
        var toCoordinator: [Envelope]
        var trace: [TimedTraceRecord]
    }

    static func frames(_ tag: Tag, _ body: [UInt8] = []) -> [[UInt8]] { [[tag.rawValue], body] }

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
        var w = ByteWriter(capacity: 64 + g.fromCoordinator.count * 64)
        w.u64(g.window)
        w.u64(g.end)
        w.u64(g.expectedPeerMessages)
        w.write(g.fromCoordinator)
        return frames(.grant, w.bytes)
    }

    static func decodeGrant(_ body: [UInt8]) throws -> Grant {
        var r = ByteReader(body)
        let g = Grant(
            window: try r.u64(), end: try r.u64(), expectedPeerMessages: try r.u64(), fromCoordinator: try r.readArray()
        )
        try r.expectEnd()
        return g
    }

    static func encode(_ report: Report) -> [[UInt8]] {
        var w = ByteWriter(capacity: 128 + report.toCoordinator.count * 64 + report.trace.count * 40)
        w.u64(report.window)
        w.u64(report.nextEvent)
        w.u64(report.earliestOutput)
        w.u64(report.events)
        w.u64(report.computeNanos)
        w.write(report.peerTraffic)
        w.write(report.toCoordinator)
        w.write(report.trace)
        return frames(.report, w.bytes)
    }

    static func decodeReport(_ body: [UInt8]) throws -> Report {
        var r = ByteReader(body)
        let window = try r.u64()
        let next = try r.u64()
        let earliest = try r.u64()
        let events = try r.u64()
        let nanos = try r.u64()
        let traffic = try r.readArray(PeerTraffic.self)
        let envelopes = try r.readArray(Envelope.self)
        let trace = try r.readArray(TimedTraceRecord.self)
        try r.expectEnd()
        return Report(
            window: window, nextEvent: next, earliestOutput: earliest, events: events, computeNanos: nanos,
            peerTraffic: traffic, toCoordinator: envelopes, trace: trace)
    }

    /// A batch of envelopes one cluster sent another in `window`.
    static func encodeBatch(window: UInt64, _ envelopes: [Envelope]) -> [UInt8] {
        var w = ByteWriter(capacity: 16 + envelopes.count * 64)
        w.u64(window)
        w.write(envelopes)
        return w.bytes
    }

    static func decodeBatch(_ body: [UInt8]) throws -> (window: UInt64, envelopes: [Envelope]) {
        var r = ByteReader(body)
        let window = try r.u64()
        let envelopes = try r.readArray(Envelope.self)
        try r.expectEnd()
        return (window, envelopes)
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
