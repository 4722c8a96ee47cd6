import WaferModel
import XCTest

@testable import Scheduling

/// The proactive planner computes its plan in flat arrays (PlanDraft) and builds a `WaferPlan`
/// only when it publishes one; these tests hold that plan equal, bit for bit, to its definition
/// through `ProportionalMapping` (`referencePlan`) over many random demands, stable sets, wafers
/// with and without defective TBUs, and current plans — the same demand again included, which a
/// draft answers without rebuilding.
final class PlanDraftTests: XCTestCase {
    private func mesh(_ rows: Int, _ columns: Int, tbus: Int, defects: String = "") throws -> Mesh {
        try WaferConfigLoader.parse(
            "mesh: {rows: \(rows), columns: \(columns)}\ncluster: {tbus: \(tbus)}\n\(defects)", file: "m.yaml"
        ).mesh
    }

    /// Compares every field, weights included (`WaferPlan` is `Equatable` over all of them). With
    /// `draft`, also the plan built in that draft, rebuilt in place from whatever it held before
    /// (as the proactive scheduler does every planning period).
    private func check(
        _ planner: ProactivePlanner, demand: [TaskType: Double], stable: Set<TaskType>, mesh: Mesh, tbus: Int,
        current: WaferPlan, draft: inout PlanDraft, file: StaticString = #filePath, line: UInt = #line
    ) {
        let fast = planner.plan(demand: demand, stable: stable, mesh: mesh, tbus: tbus, current: current)
        let reference = planner.referencePlan(demand: demand, stable: stable, mesh: mesh, tbus: tbus, current: current)
        XCTAssertEqual(fast, reference, "demand \(demand), stable \(stable)", file: file, line: line)
        let rebuilt = planner.plan(
            entries: TypeDemand.ordered(demand), stable: stable, draft: &draft, mesh: mesh, current: current)
        XCTAssertEqual(
            rebuilt, reference, "rebuilt in place: demand \(demand), stable \(stable)", file: file, line: line)
    }

    func testDraftPlanEqualsTheReferenceOnRandomDemands() throws {
        var random = SplitMix64(seed: 42)
        func uniform() -> Double { Double(random.next() >> 11) / Double(1 << 53) }
        let wafers: [(Mesh, Int)] = [
            (try mesh(2, 2, tbus: 2), 2),
            (try mesh(4, 4, tbus: 8), 8),
            (try mesh(3, 3, tbus: 4, defects: "defects: {tbus: [{cluster: 2, tbu: 0}, {cluster: 5, tbu: 3}]}"), 4),
            (try mesh(1, 3, tbus: 1), 1),
        ]
        var published = 0
        var kept = 0
        for (mesh, tbus) in wafers {
            var current = WaferPlan.empty(clusters: mesh.count, tbus: tbus)
            var draft = PlanDraft(geometry: PlanGeometry(mesh: mesh, tbus: tbus))
            var demand: [TaskType: Double] = [:]
            var stable: Set<TaskType> = []
            for _ in 0..<300 {
                // Sometimes the same demand again (a quiet spell: the draft is kept as it is),
                // or the same demand with other stable types (it must not be).
                let repeats = random.next() % 5
                if !demand.isEmpty, repeats == 0 {
                } else if !demand.isEmpty, repeats == 1 {
                    stable = Set(demand.keys.filter { _ in random.next() % 2 == 0 })
                } else if !demand.isEmpty, random.next() % 4 != 0 {
                    // Mostly small changes, as between planning periods: the hysteresis keeps the plan.
                    for type in demand.keys { demand[type]! *= 0.95 + 0.1 * uniform() }
                } else {
                    demand = [:]
                    for workflow in 0..<3 {
                        for block in 0..<Int(random.next() % 6) {
                            // Some entries without load, some tiny, some dominant.
                            switch random.next() % 5 {
                            case 0: demand[TaskType(workflow: workflow, block: block)] = 0
                            case 1: demand[TaskType(workflow: workflow, block: block)] = uniform() * 10
                            default: demand[TaskType(workflow: workflow, block: block)] = uniform() * 1_000_000
                            }
                        }
                    }
                    stable = Set(demand.keys.filter { _ in random.next() % 2 == 0 })
                }
                let planner = ProactivePlanner(hysteresis: [0, 0.1, 0.5][Int(random.next() % 3)])
                check(planner, demand: demand, stable: stable, mesh: mesh, tbus: tbus, current: current, draft: &draft)
                if let next = planner.plan(demand: demand, stable: stable, mesh: mesh, tbus: tbus, current: current) {
                    current = next
                    published += 1
                } else {
                    kept += 1
                }
            }
        }
        XCTAssertGreaterThan(published, 50, "the comparison covered published plans")
        XCTAssertGreaterThan(kept, 50, "and plans kept by the hysteresis")
    }

    func testEdgeCasesEqualTheReference() throws {
        let mesh = try mesh(2, 2, tbus: 2)
        let a = TaskType(workflow: 0, block: 0)
        let b = TaskType(workflow: 1, block: 0)
        let empty = WaferPlan.empty(clusters: 4, tbus: 2)
        let planner = ProactivePlanner()
        var draft = PlanDraft(geometry: PlanGeometry(mesh: mesh, tbus: 2))
        // Nothing to plan for.
        XCTAssertNil(planner.plan(demand: [a: 0], stable: [], mesh: mesh, tbus: 2, current: empty))
        // Everything stable: one TBU still goes to the pool for the widest dynamic share.
        check(planner, demand: [a: 5, b: 5], stable: [a, b], mesh: mesh, tbus: 2, current: empty, draft: &draft)
        check(planner, demand: [a: 1, b: 1_000], stable: [a], mesh: mesh, tbus: 2, current: empty, draft: &draft)
        // A current plan of another shape is compared as the reference compares it.
        let other = WaferPlan.empty(clusters: 4, tbus: 3)
        check(planner, demand: [a: 3, b: 1], stable: [a], mesh: mesh, tbus: 2, current: other, draft: &draft)
        // A draft rebuilt after a demand without load holds no trace of the plans before it.
        check(planner, demand: [a: 0, b: 0], stable: [], mesh: mesh, tbus: 2, current: empty, draft: &draft)
        check(planner, demand: [b: 7], stable: [b], mesh: mesh, tbus: 2, current: empty, draft: &draft)
    }
}
