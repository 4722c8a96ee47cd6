import Scheduling
import WaferModel
import XCTest

/// The demand predictor keeps its estimates in arrays indexed by type; these tests hold its
/// predictions equal, bit for bit, to the definition written over dictionaries (below), through
/// random observation sequences that also bring types it has not seen before.
final class DemandPredictorTests: XCTestCase {
    /// The definition: smoothed estimates in dictionaries, sums in type order.
    private struct Reference {
        var smoothing = 0.3
        var arrivalRate: [UInt16: Double] = [:]
        var visits: [TaskType: Double]
        var cycles: [TaskType: Double]
        let downstream: [TaskType: [TaskType]]

        mutating func observe(length: Cycle, arrivals: [UInt16: Int], runs: [TaskType: (runs: Double, cycles: Double)])
        {
            for workflow in Set(arrivals.keys).union(arrivalRate.keys) {
                let rate = Double(arrivals[workflow] ?? 0) / Double(length)
                arrivalRate[workflow] = (arrivalRate[workflow] ?? rate) * (1 - smoothing) + rate * smoothing
            }
            for (type, observed) in runs where observed.runs > 0 {
                cycles[type] = (cycles[type] ?? 0) * (1 - smoothing) + observed.cycles / observed.runs * smoothing
                if let count = arrivals[type.workflow], count > 0 {
                    visits[type] = (visits[type] ?? 0) * (1 - smoothing) + observed.runs / Double(count) * smoothing
                }
            }
        }

        func predict(horizon: Cycle, inFlight: [TaskType: Int]) -> [TaskType: Double] {
            var demand: [TaskType: Double] = [:]
            for (type, v) in visits.sorted(by: { $0.key < $1.key }) {
                let work = (arrivalRate[type.workflow] ?? 0) * Double(horizon) * v * (cycles[type] ?? 0)
                if work > 0 { demand[type, default: 0] += work }
            }
            for (type, count) in inFlight.sorted(by: { $0.key < $1.key }) where count > 0 {
                demand[type, default: 0] += Double(count) * (cycles[type] ?? 0)
                let base = max(visits[type] ?? 1, 1e-9)
                for next in downstream[type] ?? [] {
                    let ahead = Double(count) * (visits[next] ?? 0) / base * (cycles[next] ?? 0)
                    if ahead > 0 { demand[next, default: 0] += ahead }
                }
            }
            return demand
        }
    }

    func testPredictionsEqualTheDefinitionThroughRandomObservations() {
        var random = SplitMix64(seed: 7)
        func uniform() -> Double { Double(random.next() >> 11) / Double(1 << 53) }
        for _ in 0..<40 {
            // Known types: workflows 0-2, blocks 0-4; observations also bring blocks 5-7.
            var visits: [TaskType: Double] = [:]
            var cycles: [TaskType: Double] = [:]
            var downstream: [TaskType: [TaskType]] = [:]
            for workflow in 0..<3 {
                for block in 0..<5 {
                    let type = TaskType(workflow: workflow, block: block)
                    if random.next() % 4 != 0 { visits[type] = uniform() * 3 }
                    if random.next() % 4 != 0 { cycles[type] = uniform() * 100_000 }
                    downstream[type] = ((block + 1)..<5).filter { _ in random.next() % 2 == 0 }
                        .map { TaskType(workflow: workflow, block: $0) }
                }
            }
            var predictor = DemandPredictor(visits: visits, cycles: cycles, downstream: downstream)
            var reference = Reference(visits: visits, cycles: cycles, downstream: downstream)
            for _ in 0..<30 {
                var arrivals: [UInt16: Int] = [:]
                for workflow in 0..<3 where random.next() % 3 != 0 {
                    arrivals[UInt16(workflow)] = Int(random.next() % 20)
                }
                var runs: [TaskType: (runs: Double, cycles: Double)] = [:]
                for _ in 0..<Int(random.next() % 8) {
                    let type = TaskType(workflow: Int(random.next() % 3), block: Int(random.next() % 8))
                    runs[type] = (Double(random.next() % 5), uniform() * 500_000)
                }
                let length = Cycle(1 + random.next() % 400_000)
                predictor.observe(length: length, arrivals: arrivals, runs: runs)
                reference.observe(length: length, arrivals: arrivals, runs: runs)
                var inFlight: [TaskType: Int] = [:]
                for _ in 0..<Int(random.next() % 10) {
                    inFlight[TaskType(workflow: Int(random.next() % 4), block: Int(random.next() % 9))] = Int(
                        random.next() % 4)
                }
                let horizon = Cycle(1 + random.next() % 2_000_000)
                XCTAssertEqual(
                    predictor.predict(horizon: horizon, inFlight: inFlight),
                    reference.predict(horizon: horizon, inFlight: inFlight))
                XCTAssertEqual(predictor.visits, reference.visits)
                XCTAssertEqual(predictor.cycles, reference.cycles)
                // The planner's path: in-flight blocks counted from a view (queued by type, some
                // with none, and running ones; types the predictor never saw among them), and
                // the prediction as type-ordered entries — the same values.
                var counted: [TaskType: Int] = [:]
                let view = WaferLoadView(
                    time: 0,
                    clusters: (0..<3).map { cluster in
                        let byType = (0..<Int(random.next() % 4)).map { _ in
                            TaskTypeLoad(
                                taskType: TaskType(workflow: Int(random.next() % 4), block: Int(random.next() % 9)),
                                queuedTasks: Int(random.next() % 3), pendingCycles: 0)
                        }
                        let running = (0..<Int(random.next() % 3)).map { _ in
                            TaskType(workflow: Int(random.next() % 4), block: Int(random.next() % 9))
                        }
                        for entry in byType { counted[entry.taskType, default: 0] += entry.queuedTasks }
                        for type in running { counted[type, default: 0] += 1 }
                        return ClusterLoad(cluster: cluster, tbus: 2, byType: byType, running: running)
                    })
                XCTAssertEqual(
                    predictor.predict(horizon: horizon, inFlightOf: view),
                    TypeDemand.ordered(reference.predict(horizon: horizon, inFlight: counted)))
            }
        }
    }
}
