import Scheduling
import WaferModel
import XCTest

@testable import Emulation

/// The queueing the emulator produces against closed forms: Poisson arrivals at one TBU that
/// serves every block in the same number of cycles is an M/D/1 queue, whose mean wait is
/// ρ·S / (2(1 − ρ)) (Pollaczek–Khinchine with zero service variance). Checked with each link
/// model: injections travel the control plane, which contention leaves delay-modelled.
final class QueueingTheoryTests: XCTestCase {
    let service: Cycle = 1_000
    let load = 0.7
    let requests = 20_000

    /// The mean wait of `requests` Poisson arrivals at one TBU, measured as each request's latency
    /// beyond the shortest one (a request that found the TBU free: the injection hop and the
    /// service, nothing else).
    func meanWait(linkModel: String) throws -> Double {
        let config = try WaferConfigLoader.parse(
            """
            mesh: {rows: 1, columns: 1}
            cluster: {tbus: 1, queue_capacity: 100000}
            links: {model: \(linkModel)}
            """, file: "md1.yaml")
        let library = WorkflowLibrary([
            try WorkflowLoader.parse(
                """
                name: serve
                blocks:
                  - {name: work, task: [{cycles: \(service)}], output_bytes: 8}
                """, file: "md1-workflow.yaml")
        ])
        let interval = Int((Double(service) / load).rounded())
        let injections = try WorkloadLoader.parse(
            """
            injections:
              - {workflow: serve, count: \(requests), arrival: {process: poisson, mean_interval_cycles: \(interval)}}
            """, file: "md1-workload.yaml", known: ["serve"])
        let session = WaferSession.inProcess(
            config: config, library: library, scheduler: .standard("least-loaded"))
        for injection in injections { try session.inject(injection) }
        try session.runUntilIdle()
        // The first request also reconfigures the TBU: left out.
        let outcomes: [RequestOutcome] = session.coordinator.records.map(\.outcome)
        let served = outcomes.filter { $0.status == .completed && $0.request != 0 }
        let latencies: [Double] = served.map { Double($0.finished - $0.injected) }
        XCTAssertEqual(latencies.count, requests - 1)
        let shortest = try XCTUnwrap(latencies.min())
        let total: Double = latencies.reduce(0) { $0 + $1 - shortest }
        return total / Double(latencies.count)
    }

    func testOneTBUWithPoissonArrivalsIsAnMD1QueueWithEitherLinkModel() throws {
        let closedForm = load * Double(service) / (2 * (1 - load))
        let delay = try meanWait(linkModel: "delay")
        let contention = try meanWait(linkModel: "contention")
        // 20,000 arrivals at ρ = 0.7: the sample mean is within a few percent of the limit.
        XCTAssertEqual(delay, closedForm, accuracy: closedForm * 0.05, "M/D/1 mean wait, delay links")
        XCTAssertEqual(contention, closedForm, accuracy: closedForm * 0.05, "M/D/1 mean wait, contended links")
        XCTAssertEqual(contention, delay, "injections are control-plane traffic: contention does not touch them")
    }
}
