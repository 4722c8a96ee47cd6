import Emulation
import Scheduling
import WaferModel
import XCTest

@testable import Runtime

final class WireCodecTests: XCTestCase {
    let envelopes: [Envelope] = [
        Envelope(
            source: .cluster(2), destination: .cluster(3), sendTime: 10, arrival: 35, sequence: 1,
            message: .task(
                TaskMessage(
                    request: 77, taskType: TaskType(workflow: 1, block: 4), bytes: 4096, injected: 3, tasksDone: 2,
                    flow: 99))),
        Envelope(
            source: .cluster(3), destination: .cluster(0), sendTime: 10, arrival: 40, sequence: 5,
            message: .task(
                TaskMessage(
                    request: 78, taskType: TaskType(workflow: 2, block: 7), bytes: 24, injected: 3, tasksDone: 5,
                    flow: 0,
                    loops: [
                        LoopFrame(block: 2, iteration: 17, trips: .max), LoopFrame(block: 5, iteration: 0, trips: 3),
                    ],
                    fanouts: [FanoutFrame(home: 3, id: 9, item: 4, join: 8)], failed: true,
                    payload: Tensor(shape: [2, 3], values: [1, -2.5, 3, .infinity, 0, -0.0])))),
        Envelope(
            source: .cluster(0), destination: .coordinator, sendTime: 11, arrival: 111, sequence: 2,
            message: .outcome(
                RequestOutcome(
                    request: 5, workflow: 1, injected: 2, finished: 11, status: .rejected, tasksDone: 1, cluster: 0))),
        Envelope(
            source: .cluster(1), destination: .coordinator, sendTime: 12, arrival: 112, sequence: 3,
            message: .load(
                ClusterLoad(
                    cluster: 1, tbus: 4, busyTBUs: 2, queuedTasks: 9, pendingCycles: 123_456,
                    byType: [
                        TaskTypeLoad(taskType: TaskType(workflow: 0, block: 1), queuedTasks: 9, pendingCycles: 100_000)
                    ],
                    configurations: [nil, TaskType(workflow: 0, block: 1), nil, TaskType(workflow: 1, block: 3)],
                    started: [
                        RequestBlock(request: 77, taskType: TaskType(workflow: 0, block: 1)),
                        RequestBlock(request: 1 << 40, taskType: TaskType(workflow: 1, block: 3)),
                    ]))),
        Envelope(
            source: .coordinator, destination: .cluster(1), sendTime: 13, arrival: 113, sequence: 4,
            message: .view(
                LoadViewUpdate(
                    time: 13,
                    clusters: [ClusterLoad(cluster: 0, tbus: 4), ClusterLoad(cluster: 1, tbus: 4, busyTBUs: 1)]))),
        Envelope(
            source: .cluster(1), destination: .cluster(2), sendTime: 14, arrival: 60, sequence: 6,
            message: .transit(
                Transit(
                    task: TaskMessage(request: 9, taskType: TaskType(workflow: 0, block: 2), bytes: 640, injected: 1),
                    destination: 3, tail: 70, entering: false))),
        Envelope(
            source: .coordinator, destination: .cluster(0), sendTime: 15, arrival: 115, sequence: 7,
            message: .transit(
                Transit(
                    task: TaskMessage(request: 10, taskType: TaskType(workflow: 1, block: 0), bytes: 0, injected: 2),
                    destination: 1, tail: 115, entering: true))),
    ]

    var trace: [TimedTraceRecord] {
        records.enumerated().map { TimedTraceRecord(time: UInt64($0.offset * 10), record: $0.element) }
    }

    let records: [TraceRecord] = [
        .slice(
            cluster: 1, unit: 2, start: 5, duration: 6, kind: .reconfigure, taskType: TaskType(workflow: 0, block: 1),
            request: 8),
        .flowStart(cluster: 1, unit: 2, time: 5, flow: 42), .flowEnd(cluster: 3, unit: 1, time: 9, flow: 42),
        .queue(cluster: 0, time: 1, tasks: 3, busyTBUs: 2, pendingCycles: 999),
        .rejected(cluster: 2, time: 4, request: 6, taskType: TaskType(workflow: 1, block: 0)),
        .injected(time: 0, request: 1, workflow: 1, cluster: 3), .inFlight(time: 2, count: 17),
        .linkBusy(cluster: 2, resource: 5, start: 30, duration: 100, waited: 12, bytes: 6400),
    ]

    func testReportRoundTrip() throws {
        let cases: [(AbsorbedMessages, LateAbsorption, [Int])] = [
            ([], .none, []), ([.views], LateAbsorption(views: 0, balanceSignals: 77), [3, 4, 5]),
            (.all, LateAbsorption(views: 12_345, balanceSignals: .never), [0, 255]),
        ]
        for (absorbs, late, peers) in cases {
            let report = ClusterProtocol.Report(
                window: 9, nextEvent: .never, earliestOutput: 1234, events: 55, computeNanos: 66,
                absorbs: absorbs, lateAbsorption: late, envelopes: envelopes, trace: trace, livePeers: peers)
            let (tag, body) = try ClusterProtocol.parse(ClusterProtocol.encode(report))
            XCTAssertEqual(tag, .report)
            XCTAssertEqual(try ClusterProtocol.decodeReport(body), report)
        }
    }

    func testGrantRoundTrip() throws {
        let correction = WindowCorrection(window: 2, end: 400, inWindow: Array(envelopes.prefix(3)))
        for (speculative, restore, correction) in [
            (false, false, nil), (true, false, nil), (true, true, nil), (true, false, correction),
            (false, false, WindowCorrection(window: 1, end: 9, inWindow: [])),
        ] {
            let grant = ClusterProtocol.Grant(
                window: 3, end: 500, speculative: speculative, restore: restore, inputs: Array(envelopes.prefix(2)),
                inWindow: Array(envelopes.suffix(3)), correction: correction)
            let (tag, body) = try ClusterProtocol.parse(ClusterProtocol.encode(grant))
            XCTAssertEqual(tag, .grant)
            XCTAssertEqual(try ClusterProtocol.decodeGrant(body), grant)
        }
    }

    /// A GRANTS message carries each view update and plan once; its grants refer to them and
    /// decode to the grants as they were, each holding its own copy of the message.
    func testGrantsShareViewsAndPlansAndDecodeToTheSameGrants() throws {
        let kinds = Self.everyKind
        let view = try XCTUnwrap(kinds.first { if case .view = $0 { true } else { false } })
        let plan = try XCTUnwrap(kinds.first { if case .plan = $0 { true } else { false } })
        guard case .view(var laterUpdate) = view else { return XCTFail("not a view") }
        laterUpdate.time += 10_000
        let later = Message.view(laterUpdate)
        func envelope(_ message: Message, to cluster: Int, sequence: UInt64) -> Envelope {
            Envelope(
                source: .coordinator, destination: .cluster(cluster), sendTime: 5, arrival: 105, sequence: sequence,
                message: message)
        }
        let grants = (0..<3).map { cluster in
            ClusterProtocol.Grant(
                window: 4, end: 900, speculative: true, restore: cluster == 1,
                inputs: [envelope(view, to: cluster, sequence: 1), envelope(plan, to: cluster, sequence: 2)]
                    + envelopes.filter { $0.destination == .cluster(cluster) },
                inWindow: [envelope(later, to: cluster, sequence: 3)]
                    + kinds.map { envelope($0, to: cluster, sequence: 9) },
                correction: cluster == 2
                    ? WindowCorrection(window: 3, end: 400, inWindow: [envelope(view, to: cluster, sequence: 1)]) : nil)
        }
        var table: ClusterProtocol.SharedMessages? = ClusterProtocol.SharedMessages()
        let bodies = grants.enumerated().map { ($0.offset, ClusterProtocol.encode($0.element, sharing: &table)) }
        // Every grant named `view`, `plan` and `later` (`everyKind` holds them too), and the
        // fixture's envelopes one more update for cluster 1: each distinct message once.
        let fixtureView = try XCTUnwrap(envelopes.first { if case .view = $0.message { true } else { false } }).message
        XCTAssertEqual(table?.messages, [view, plan, later, fixtureView])
        let (tag, body) = try ClusterProtocol.parse(ClusterProtocol.batchGrants(bodies, shared: table!))
        XCTAssertEqual(tag, .grants)
        let (shared, items) = try ClusterProtocol.unbatchGrants(body)
        XCTAssertEqual(shared, [view, plan, later, fixtureView])
        XCTAssertEqual(items.map(\.cluster), [0, 1, 2])
        XCTAssertEqual(try items.map { try ClusterProtocol.decodeGrant($0.body, shared: shared) }, grants)
        // Smaller than the same grants each holding its messages.
        let unshared = grants.reduce(0) { $0 + ClusterProtocol.encode($1)[1].count }
        XCTAssertLessThan(body.count, unshared)

        // A reference needs the table it was written against.
        XCTAssertThrowsError(try ClusterProtocol.decodeGrant(items[0].body)) { error in
            XCTAssertTrue("\(error)".contains("unknown message kind 255"), "\(error)")
        }
        XCTAssertThrowsError(try ClusterProtocol.decodeGrant(items[0].body, shared: [view])) { error in
            XCTAssertTrue("\(error)".contains("refers to shared message 1 of 1"), "\(error)")
        }
        for cut in [0, 4, body.count / 3, body.count - 1] {
            XCTAssertThrowsError(try ClusterProtocol.unbatchGrants(Array(body.prefix(cut))), "truncated at \(cut)")
        }
        XCTAssertThrowsError(try ClusterProtocol.unbatchGrants(body + [0]), "trailing byte")
    }

    /// Lone grants of one round encoded with one memo are byte for byte the grants encoded each
    /// on its own, though their view updates and plans were encoded once: also when two updates
    /// differ only in an entry (same time, size and publications).
    func testLoneGrantsOfARoundEncodeAsEachAlone() throws {
        let kinds = Self.everyKind
        guard case .view(let update) = try XCTUnwrap(kinds.first { if case .view = $0 { true } else { false } })
        else { return XCTFail("not a view") }
        var other = update
        other.clusters[0].queuedTasks += 1
        let plan = try XCTUnwrap(kinds.first { if case .plan = $0 { true } else { false } })
        let grants = (0..<4).map { cluster in
            ClusterProtocol.Grant(
                window: 7, end: 1_000, speculative: cluster != 3, restore: false,
                inputs: [.view(cluster % 2 == 0 ? update : other), plan].enumerated().map { index, message in
                    Envelope(
                        source: .coordinator, destination: .cluster(cluster), sendTime: 1, arrival: 101,
                        sequence: UInt64(index), message: message)
                } + envelopes.filter { $0.destination == .cluster(cluster) },
                inWindow: kinds.map {
                    Envelope(
                        source: .coordinator, destination: .cluster(cluster), sendTime: 2, arrival: 102,
                        sequence: 9, message: $0)
                },
                correction: cluster == 1
                    ? WindowCorrection(
                        window: 6, end: 500,
                        inWindow: [
                            Envelope(
                                source: .coordinator, destination: .cluster(1), sendTime: 1, arrival: 101, sequence: 4,
                                message: .view(other))
                        ]) : nil)
        }
        var memo = ClusterProtocol.EncodedMessages()
        for grant in grants {
            var unshared: ClusterProtocol.SharedMessages?
            let body = ClusterProtocol.encode(grant, sharing: &unshared, memo: &memo)
            XCTAssertEqual(body, ClusterProtocol.encode(grant)[1])
            XCTAssertEqual(try ClusterProtocol.decodeGrant(body), grant)
        }
    }

    /// The table tells shared messages apart by content, not by their cheap fields alone: two
    /// merged views of the same time, size and publications whose entries differ are two entries,
    /// an equal copy with storage of its own is the same entry, and a plan never matches a view.
    func testSharedMessagesTellViewsApartByTheirEntries() throws {
        guard
            case .view(let update) = try XCTUnwrap(Self.everyKind.first { if case .view = $0 { true } else { false } })
        else { return XCTFail("not a view") }
        var other = update
        other.clusters[other.clusters.count - 1].pendingCycles += 1
        var copy = LoadViewUpdate(time: update.time, clusters: [], publications: update.publications)
        for entry in update.clusters { copy.clusters.append(entry) }
        let plan = try XCTUnwrap(Self.everyKind.first { if case .plan = $0 { true } else { false } })
        var table = ClusterProtocol.SharedMessages()
        XCTAssertEqual(table.index(of: .view(update)), 0)
        XCTAssertEqual(table.index(of: .view(other)), 1, "same time, size and publications, another entry")
        XCTAssertEqual(table.index(of: plan), 2)
        XCTAssertEqual(table.index(of: .view(copy)), 0, "an equal update with storage of its own")
        XCTAssertEqual(table.index(of: .view(other)), 1)
        XCTAssertEqual(table.messages, [.view(update), .view(other), plan])
    }

    /// One message of every kind, each with non-empty contents (lists, optionals and floats set).
    static var everyKind: [Message] {
        let a = TaskType(workflow: 1, block: 2)
        let b = TaskType(workflow: 3, block: 4)
        let load = ClusterLoad(
            cluster: 2, tbus: 3, busyTBUs: 2, queuedTasks: 5, pendingCycles: 77_000,
            byType: [
                TaskTypeLoad(taskType: a, queuedTasks: 3, pendingCycles: 40_000),
                TaskTypeLoad(taskType: b, queuedTasks: 2, pendingCycles: 37_000),
            ],
            configurations: [a, nil, b], finished: [TypeRuns(taskType: a, runs: 4, cycles: 1234.5, squares: 9.75e6)],
            running: [a, b])
        let plan = WaferPlan(
            epoch: 7, reserved: [[[a, b], [], [b]], [[], [a], []]],
            weights: [[[0.25, 0.75], [], [1]], [[], [0.5], []]],
            configure: [[nil, b, nil], [a, nil, nil]])
        let task = TaskMessage(
            request: 9, taskType: a, bytes: 512, injected: 100, tasksDone: 3, flow: 42,
            loops: [LoopFrame(block: 1, iteration: 2, trips: 5)],
            fanouts: [FanoutFrame(home: 1, id: 3, item: 2, join: 6)],
            failed: true, payload: Tensor(shape: [1, 2], values: [0.5, -1]))
        var credited = task
        credited.credit = 5
        return [
            .task(task),
            .outcome(
                RequestOutcome(
                    request: 9, workflow: 1, injected: 100, finished: 900, status: .completed, tasksDone: 4, cluster: 2)
            ),
            .load(load),
            .view(
                LoadViewUpdate(
                    time: 5000, clusters: [load, ClusterLoad(cluster: 3, tbus: 3, busyTBUs: 1)], publications: 4)),
            .plan(plan),
            .ready(ReadyTask(task: task, origin: 2, pinned: 1)),
            .release(TBURelease(cluster: 2, units: 3)),
            .balance(BalanceSignal(kind: .request, cluster: 2, cycles: 12_345, count: 4)),
            .transit(Transit(task: task, destination: 3, tail: 4_567, entering: true)),
            .task(credited),
            .credit(FlowCredit(cluster: 3)),
            .stall(
                FlowStall(
                    cluster: 1, stalled: true, waiting: [CreditCount(cluster: 2, count: 4)],
                    holding: [CreditCount(cluster: 0, count: 1), CreditCount(cluster: 2, count: 3)])),
        ]
    }

    func testEveryMessageKindRoundTripsWithContents() throws {
        let messages = Self.everyKind
        XCTAssertEqual(Set(messages.map(\.tag)), Set(MessageTag.allCases), "a sample of every message kind")
        for (sequence, message) in messages.enumerated() {
            let envelope = Envelope(
                source: .cluster(2), destination: .coordinator, sendTime: 10, arrival: 110, sequence: UInt64(sequence),
                message: message)
            var w = ByteWriter()
            w.write(envelope)
            var r = ByteReader(w.bytes)
            XCTAssertEqual(try r.read(Envelope.self), envelope, message.kindName)
            XCTAssertNoThrow(try r.expectEnd(), message.kindName)
            // Every prefix is an error, never a crash or a wrong value.
            for cut in stride(from: 0, to: w.bytes.count, by: max(1, w.bytes.count / 17)) {
                var truncated = ByteReader(Array(w.bytes.prefix(cut)))
                XCTAssertThrowsError(try truncated.read(Envelope.self), "\(message.kindName) cut at \(cut)")
            }
        }
        for kind in BalanceSignal.Kind.allCases {
            let signal = Message.balance(BalanceSignal(kind: kind, cluster: 1, cycles: 2, count: 3))
            var w = ByteWriter()
            w.write(signal)
            var r = ByteReader(w.bytes)
            XCTAssertEqual(try r.read(Message.self), signal)
        }
    }

    /// Statistics with every field set (each differs from a fresh value, checked by reflection, so
    /// a field added later must be added here, and its round trip then needs the codec too).
    static var fullStats: ClusterStats {
        var tbu = TBUStats()
        tbu.tasks = 1
        tbu.busyCycles = 2
        tbu.reconfigurationCycles = 3
        tbu.reconfigurations = 4
        tbu.starvedCycles = 5
        tbu.unassignedCycles = 6
        tbu.blockedCycles = 7
        tbu.idleStarts = [8, 80, .max]
        tbu.openIdleStart = 81
        var occupancy = LinkOccupancy()
        occupancy.transfers = 9
        occupancy.busyCycles = 10
        occupancy.queueingCycles = 11
        occupancy.maxQueueingCycles = 12
        var stats = ClusterStats(cluster: 13, tbus: 0)
        stats.tbus = [tbu, TBUStats(), tbu]
        stats.controlBlocks = 14
        stats.cbuBusyCycles = 15
        stats.rejected = 16
        stats.messagesSent = ["task": 17, "view": 18, "ünïcode": 19]
        stats.byteHops = 20
        stats.links = LinkTraffic(
            bytes: [3: 21, 0: 22], transfers: [3: 23], occupancy: [5: occupancy],
            ports: [27: occupancy, 26: LinkOccupancy()])
        stats.localFlows = 24
        stats.events = 25
        stats.quantumDelayedMessages = 26
        stats.quantumDelayCycles = 27
        stats.causalityViolations = 28
        stats.blockRuns = [TaskType(workflow: 1, block: 2): 29, TaskType(workflow: 0, block: 7): 30]
        stats.fanoutItems = 31
        stats.earlyExits = 32
        stats.controlOnTBUs = 33
        stats.splits = 34
        stats.proactiveReconfigurations = 35
        stats.migrations = 36
        stats.migrationByteHops = 37
        stats.decisions = 38
        stats.decisionNanos = 39
        stats.fillOverlapBlocks = 40
        stats.fillOverlapCycles = 41
        stats.heldOutputs = 42
        stats.idleTimeline = IdleTimeline(width: 43, starved: [1, 2], unassigned: [3])
        return stats
    }

    func testClusterStatsRoundTripWithEveryField() throws {
        let stats = Self.fullStats
        /// Labels of `value`'s stored properties that equal those of `fresh`.
        func unset(_ value: Any, _ fresh: Any) -> [String] {
            zip(Mirror(reflecting: value).children, Mirror(reflecting: fresh).children).compactMap { field, empty in
                String(describing: field.value) == String(describing: empty.value) ? field.label ?? "?" : nil
            }
        }
        XCTAssertEqual(unset(stats, ClusterStats(cluster: 0, tbus: 0)), [], "every field of ClusterStats is set")
        XCTAssertEqual(unset(stats.tbus[0], TBUStats()), [], "every field of TBUStats is set")
        XCTAssertEqual(unset(stats.links.occupancy[5]!, LinkOccupancy()), [], "every field of LinkOccupancy is set")
        XCTAssertEqual(
            unset(stats.links, LinkTraffic()), [], "every field of LinkTraffic is set")
        let frames = ClusterProtocol.encodeStats(stats)
        XCTAssertEqual(frames[0], [ClusterProtocol.Tag.stats.rawValue])
        XCTAssertEqual(try ClusterProtocol.decodeStats(frames[1]), stats)
        XCTAssertEqual(ClusterProtocol.encodeStats(stats), frames, "the same statistics, the same bytes")
        var plain = ClusterStats(cluster: 2, tbus: 4)
        plain.idleTimeline = nil
        XCTAssertEqual(try ClusterProtocol.decodeStats(ClusterProtocol.encodeStats(plain)[1]), plain)
        for cut in [0, 7, frames[1].count / 2, frames[1].count - 1] {
            XCTAssertThrowsError(try ClusterProtocol.decodeStats(Array(frames[1].prefix(cut)))) { error in
                XCTAssertTrue("\(error)".contains("malformed ClusterStats"), "\(error)")
            }
        }
        XCTAssertThrowsError(try ClusterProtocol.decodeStats(frames[1] + [0]), "trailing byte")
    }

    func testMalformedFramesAreErrorsNotCrashes() throws {
        let grant = ClusterProtocol.encode(
            ClusterProtocol.Grant(window: 1, end: 9, speculative: true, restore: false, inputs: envelopes, inWindow: [])
        )[1]
        for cut in [0, 3, 8, 12, 16, grant.count / 2, grant.count - 1] {
            XCTAssertThrowsError(try ClusterProtocol.decodeGrant(Array(grant.prefix(cut))), "truncated at \(cut)")
        }
        XCTAssertThrowsError(try ClusterProtocol.decodeGrant(grant + [0]), "trailing byte")
        var flags = grant
        flags[16] = 9
        XCTAssertThrowsError(try ClusterProtocol.decodeGrant(flags), "unknown grant flags")
        var corrupt = grant
        corrupt[17 + 4 + 4 + 4 + 24] = 200  // the first input envelope's message kind
        XCTAssertThrowsError(try ClusterProtocol.decodeGrant(corrupt))
        XCTAssertThrowsError(try ClusterProtocol.parse([[99], []]))
        XCTAssertThrowsError(try ClusterProtocol.parse([[1]]))
        // A huge element count must not allocate or loop: it is checked against the bytes present.
        XCTAssertThrowsError(
            try ClusterProtocol.decodeGrant([1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 255, 255, 255, 255]))
    }

    /// Seeded mutations of real grants and reports (bit flips, overwritten bytes, cuts, insertions)
    /// and random bytes: every decoder either throws or returns a value, never traps, whatever the
    /// bytes. `OCTOPUS_FUZZ_SEED` picks the seed (default 1); `scripts/fuzz` runs more of them.
    func testMutatedAndRandomFramesNeverTrapTheDecoders() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["OCTOPUS_FUZZ_SEED"] ?? "") ?? 1
        var rng = SplitMix64(keys: seed, 11)
        let grant = ClusterProtocol.encode(
            ClusterProtocol.Grant(
                window: 1, end: 9, speculative: true, restore: false, inputs: envelopes, inWindow: [envelopes[0]]))[1]
        let report = ClusterProtocol.encode(
            ClusterProtocol.Report(
                window: 9, nextEvent: .never, earliestOutput: 1234, events: 55, computeNanos: 66, absorbs: .views,
                envelopes: envelopes, trace: trace))[1]
        let stats = ClusterProtocol.encodeStats(Self.fullStats)[1]
        var table: ClusterProtocol.SharedMessages? = ClusterProtocol.SharedMessages()
        let sharing = ClusterProtocol.encode(
            ClusterProtocol.Grant(
                window: 1, end: 9, speculative: true, restore: false, inputs: envelopes,
                inWindow: Self.everyKind.map {
                    Envelope(
                        source: .coordinator, destination: .cluster(0), sendTime: 1, arrival: 2, sequence: 3,
                        message: $0)
                }),
            sharing: &table)
        let grants = ClusterProtocol.batchGrants([(0, sharing), (1, grant)], shared: table!)[1]
        var decoded = 0
        for iteration in 0..<20_000 {
            let bytes = mutated([grant, report, stats, grants][iteration % 4], &rng)
            if (try? ClusterProtocol.decodeGrant(bytes)) != nil { decoded += 1 }
            if (try? ClusterProtocol.decodeReport(bytes)) != nil { decoded += 1 }
            if (try? ClusterProtocol.decodeStats(bytes)) != nil { decoded += 1 }
            _ = try? ClusterProtocol.decodeCycle(bytes)
            _ = try? ClusterProtocol.unbatch(bytes)
            if let (shared, items) = try? ClusterProtocol.unbatchGrants(bytes) {
                for item in items where (try? ClusterProtocol.decodeGrant(item.body, shared: shared)) != nil {
                    decoded += 1
                }
            }
            _ = try? ClusterProtocol.parse([Array(bytes.prefix(1)), bytes])
        }
        // Some flips land in fields any value of which is valid: decoding is not merely refusing all.
        XCTAssertGreaterThan(decoded, 0)
    }
}

/// A seeded mutation of a frame for the decoders' fuzz tests: one bit flipped, a few bytes
/// overwritten, cut short, bytes inserted, or replaced by random bytes altogether.
func mutated(_ frame: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
    var bytes = frame
    switch rng.next() % 5 {
    case 0:
        let index = Int(rng.next() % UInt64(bytes.count))
        bytes[index] ^= UInt8(1 << (rng.next() % 8))
    case 1:
        for _ in 0..<(1 + rng.next() % 8) {
            bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
        }
    case 2: bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count))))
    case 3:
        let index = Int(rng.next() % UInt64(bytes.count))
        bytes.insert(
            contentsOf: (0..<(1 + rng.next() % 16)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: index)
    default: bytes = (0..<(rng.next() % 256)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }
    return bytes
}
