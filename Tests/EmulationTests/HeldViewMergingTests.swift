import Scheduling
import WaferModel
import XCTest

@testable import Emulation

/// Held view updates merged before they are handed over must leave the cluster exactly where the
/// updates one by one would: the same view whenever anything else happens there, and at the end,
/// and the same count of events.
final class HeldViewMergingTests: XCTestCase {
    private func view(_ time: Cycle, _ entries: [(Int, Cycle)], sequence: UInt64, arrival: Cycle? = nil) -> Envelope {
        Envelope(
            source: .coordinator, destination: .cluster(0), sendTime: time, arrival: arrival ?? time + 10,
            sequence: sequence,
            message: .view(
                LoadViewUpdate(
                    time: time,
                    clusters: entries.map { ClusterLoad(cluster: $0.0, tbus: 4, pendingCycles: $0.1) })))
    }

    private func signal(_ arrival: Cycle, from cluster: Int32, sequence: UInt64) -> Envelope {
        Envelope(
            source: .cluster(Int(cluster)), destination: .cluster(0), sendTime: 0, arrival: arrival,
            sequence: sequence, message: .balance(BalanceSignal(kind: .load, cluster: cluster, cycles: 7, count: 0)))
    }

    private func task(_ arrival: Cycle, sequence: UInt64) -> Envelope {
        Envelope(
            source: .cluster(2), destination: .cluster(0), sendTime: 0, arrival: arrival,
            sequence: sequence,
            message: .task(TaskMessage(request: 1, taskType: TaskType(workflow: 0, block: 0), bytes: 8, injected: 0)))
    }

    /// What a cluster sees handling `inputs` in its own order (arrival, then views before work
    /// before signals, then the delivery tie-break): the view whenever a message other than a view
    /// arrives, the view at the end, and the events counted.
    private func observe(_ inputs: [Envelope]) -> (seen: [WaferLoadView], end: WaferLoadView, events: UInt64) {
        func rank(_ message: Message) -> UInt8 {
            switch message {
            case .view: return 2
            case .balance: return 4
            default: return 3
            }
        }
        let ordered = inputs.sorted {
            ($0.arrival, rank($0.message), $0.deliveryTieBreak) < ($1.arrival, rank($1.message), $1.deliveryTieBreak)
        }
        var current = WaferLoadView.idle(clusters: 6, tbus: 4)
        var seen: [WaferLoadView] = []
        var events: UInt64 = 0
        for envelope in ordered {
            if case .view(let update) = envelope.message {
                current.apply(update)
                events += UInt64(update.publications)
            } else {
                seen.append(current)
                events += 1
            }
        }
        return (seen, current, events)
    }

    func testConsecutiveHeldViewsBecomeOneWithTheLastTimeAndEveryLatestEntry() {
        let inputs = [
            view(100, [(1, 5), (2, 6)], sequence: 1),
            view(200, [(2, 7)], sequence: 2),
            view(300, [(3, 8)], sequence: 3),
        ]
        let merged = HeldViewMerging.merge(inputs, absorbs: .all, before: 1_000)
        XCTAssertEqual(merged.count, 1)
        XCTAssertEqual(merged[0].arrival, 310)
        XCTAssertEqual(merged[0].deliveryTieBreak, inputs[2].deliveryTieBreak)
        guard case .view(let update) = merged[0].message else { return XCTFail("not a view") }
        XCTAssertEqual(update.time, 300)
        XCTAssertEqual(update.publications, 3)
        XCTAssertEqual(update.clusters.map(\.cluster), [1, 2, 3])
        XCTAssertEqual(update.clusters.map(\.pendingCycles), [5, 7, 8])
        XCTAssertEqual(observe(merged).end, observe(inputs).end)
        XCTAssertEqual(observe(merged).events, 3)
    }

    func testSignalsSeparateRunsAndWorkOrTheWindowStopsMerging() {
        let inputs = [
            view(100, [(1, 1)], sequence: 1),
            view(200, [(1, 2)], sequence: 2),
            signal(210, from: 1, sequence: 1),  // a view of the same time goes before it
            view(200, [(2, 3)], sequence: 3),
            view(300, [(2, 4)], sequence: 4),
            task(500, sequence: 1),
            view(500, [(3, 5)], sequence: 5),
            view(600, [(3, 6)], sequence: 6),
        ]
        let merged = HeldViewMerging.merge(inputs, absorbs: .all, before: 10_000)
        // The three views arriving at 110 and 210 (before the signal of the same time) become one;
        // the one at 310 stands alone; the task at 500 ends merging.
        XCTAssertEqual(merged.count, 6)
        XCTAssertEqual(observe(merged).seen, observe(inputs).seen)
        XCTAssertEqual(observe(merged).end, observe(inputs).end)
        XCTAssertEqual(observe(merged).events, observe(inputs).events)

        // Nothing is merged at or after the window's start, nor for a cluster that does not
        // absorb views, and a signal it does not absorb is work like any other.
        XCTAssertEqual(HeldViewMerging.merge(inputs, absorbs: .all, before: 210), inputs)
        XCTAssertEqual(HeldViewMerging.merge(inputs, absorbs: .all, before: 211).count, inputs.count - 2)
        XCTAssertEqual(HeldViewMerging.merge(inputs, absorbs: [.balanceSignals], before: 10_000), inputs)
        XCTAssertEqual(HeldViewMerging.merge(inputs, absorbs: .views, before: 10_000), inputs)
    }

    /// Clusters idle since the same time hold the same broadcast updates: their run is merged
    /// once and handed to each as one value; a run equal in times but not in entries is merged
    /// anew.
    func testClustersHoldingTheSameRunShareOneMerge() throws {
        let broadcast = [view(100, [(1, 5), (2, 6)], sequence: 1), view(200, [(2, 7)], sequence: 2)]
        func held(by cluster: Int, _ envelopes: [Envelope]) -> [Envelope] {
            envelopes.map {
                var copy = $0
                copy.destination = .cluster(cluster)
                return copy
            }
        }
        func update(_ envelopes: [Envelope]) throws -> LoadViewUpdate {
            XCTAssertEqual(envelopes.count, 1)
            struct NotAView: Error {}
            guard case .view(let update) = try XCTUnwrap(envelopes.first).message else { throw NotAView() }
            return update
        }
        func storage(_ update: LoadViewUpdate) -> UnsafeRawPointer? {
            update.clusters.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
        }
        var memo = HeldViewMerging.Memo()
        let first = try update(HeldViewMerging.merge(held(by: 3, broadcast), absorbs: .all, before: 1_000, memo: &memo))
        let second = try update(
            HeldViewMerging.merge(held(by: 4, broadcast), absorbs: .all, before: 1_000, memo: &memo))
        XCTAssertEqual(first, try update(HeldViewMerging.merge(broadcast, absorbs: .all, before: 1_000)))
        XCTAssertEqual(second, first)
        XCTAssertEqual(storage(second), storage(first), "the second cluster gets the first one's merge")
        // The same times, other entries: not the remembered merge.
        let other = [view(100, [(1, 5), (2, 6)], sequence: 1), view(200, [(2, 8)], sequence: 2)]
        let third = try update(HeldViewMerging.merge(other, absorbs: .all, before: 1_000, memo: &memo))
        XCTAssertEqual(third.clusters.map(\.pendingCycles), [5, 8])
    }

    func testMergingNeverChangesWhatTheClusterSees() {
        var rng = SplitMix64(seed: 12)
        var merges = 0
        var memo = HeldViewMerging.Memo()
        for _ in 0..<2_000 {
            var inputs: [Envelope] = []
            var sequence: UInt64 = 0
            for _ in 0..<Int.random(in: 0...12, using: &rng) {
                sequence += 1
                let time = Cycle.random(in: 0...60, using: &rng) * 10
                switch Int.random(in: 0..<10, using: &rng) {
                case 0..<6:
                    let entries = (0..<Int.random(in: 0...3, using: &rng)).map { _ in
                        (Int.random(in: 0..<6, using: &rng), Cycle.random(in: 0...1_000, using: &rng))
                    }
                    // Updates name each cluster at most once.
                    var named = Set<Int>()
                    inputs.append(
                        view(
                            time, entries.filter { named.insert($0.0).inserted }, sequence: sequence,
                            arrival: time + Cycle.random(in: 0...2, using: &rng) * 10))
                case 6..<9:
                    inputs.append(signal(time + 10, from: Int32.random(in: 1...3, using: &rng), sequence: sequence))
                default: inputs.append(task(time + 10, sequence: sequence))
                }
            }
            let absorbs: AbsorbedMessages = Bool.random(using: &rng) ? .all : .views
            let start = Cycle.random(in: 0...700, using: &rng)
            let merged = HeldViewMerging.merge(inputs, absorbs: absorbs, before: start)
            // A memo kept across every case gives the same merges.
            XCTAssertEqual(HeldViewMerging.merge(inputs, absorbs: absorbs, before: start, memo: &memo), merged)
            if merged.count < inputs.count { merges += 1 }
            let (before, after) = (observe(inputs), observe(merged))
            XCTAssertEqual(after.seen, before.seen)
            XCTAssertEqual(after.end, before.end)
            XCTAssertEqual(after.events, before.events)
        }
        XCTAssertGreaterThan(merges, 100, "the cases exercised merging")
    }
}
