import Scheduling
import WaferModel
import XCTest

@testable import Emulation

/// Pins a workflow's first block to cluster 0 and every later block to cluster 1, so a producer and
/// a consumer each have a cluster of their own (no built-in scheduler can isolate them: `static`
/// maps in proportion to load, which puts part of a slow consumer beside its producer).
private struct PinnedPlacement: PlacementPolicy {
    let name = "pinned"
    let usesRequestKey = false

    func place(_ request: PlacementRequest, in context: PlacementContext) -> Int {
        request.taskType.block == 0 ? 0 : 1
    }
}

/// Credit-based flow control against the pipeline it is meant to model (docs/configuration.md,
/// "Back-pressure"): a producer block of P cycles on cluster 0 feeding a consumer block of C > P
/// cycles on cluster 1 through a one-block input buffer.
final class BackPressureTests: XCTestCase {
    let producer: Cycle = 2_000
    let consumer: Cycle = 5_000
    let requests = 200

    /// Runs `requests` requests arriving 10 cycles apart (a backlog at the producer) and returns
    /// the producer's and the consumer's TBU accounting.
    func run(credits: Int?) throws -> (producer: TBUStats, consumer: TBUStats, completed: Int) {
        let creditLine = credits.map { ", flow_credits: \($0)" } ?? ""
        let config = try WaferConfigLoader.parse(
            """
            mesh: {rows: 1, columns: 2}
            cluster: {tbus: 1, queue_capacity: 1000\(creditLine)}
            """, file: "pipeline.yaml")
        let library = WorkflowLibrary([
            try WorkflowLoader.parse(
                """
                name: pipeline
                blocks:
                  - {name: produce, task: [{cycles: \(producer)}], output_bytes: 64, next: consume}
                  - {name: consume, task: [{cycles: \(consumer)}], output_bytes: 8}
                """, file: "pipeline-workflow.yaml")
        ])
        let injections = try WorkloadLoader.parse(
            """
            injections:
              - {workflow: pipeline, count: \(requests), arrival: {process: periodic, period_cycles: 10}}
            """, file: "pipeline-workload.yaml", known: ["pipeline"])
        let scheduler = Scheduler(
            name: "pinned", controlPlane: .cbu, routing: .placement(PinnedPlacement()), dispatch: FIFODispatch())
        let session = WaferSession.inProcess(config: config, library: library, scheduler: scheduler)
        for injection in injections { try session.inject(injection) }
        try session.runUntilIdle()
        let stats = try session.transport.collectStats(end: session.accountingEnd)
        let completed = session.coordinator.records.filter { $0.outcome.status == .completed }.count
        return (stats[0].tbus[0], stats[1].tbus[0], completed)
    }

    /// The consumer paces the pipeline: each of its starts returns the one credit, so after a
    /// short start-up the producer computes P and waits C − P of every C cycles.
    func testAProducerFeedingASlowConsumerThroughAOneBlockBufferIsBlockedForTheSlackOfEachCycle() throws {
        let pipeline = try run(credits: 1)
        XCTAssertEqual(pipeline.completed, requests)
        XCTAssertEqual(pipeline.producer.busyCycles, Cycle(requests) * producer)
        XCTAssertEqual(pipeline.consumer.busyCycles, Cycle(requests) * consumer)
        let blocked = Double(pipeline.producer.blockedCycles)
        let fraction = blocked / (blocked + Double(pipeline.producer.busyCycles))
        let predicted = Double(consumer - producer) / Double(consumer)
        XCTAssertEqual(fraction, predicted, accuracy: 0.01, "blocked \(blocked) cycles")
        // Start-up: the first two outputs leave without waiting (the credit returns within one
        // producer block); the last held output leaves when the consumer starts the one before it.
        XCTAssertEqual(blocked, Double(requests - 2) * Double(consumer - producer), accuracy: Double(consumer))
        // Back-pressure never starves the consumer: the credit is back long before it finishes.
        XCTAssertEqual(pipeline.consumer.blockedCycles, 0)
        XCTAssertEqual(pipeline.consumer.unassignedCycles, 0)
    }

    /// A buffer that holds every request never pushes back; neither does an unbounded one.
    func testABufferLargeEnoughForTheBacklogNeverBlocksTheProducer() throws {
        let large = try run(credits: requests)
        let unbounded = try run(credits: nil)
        XCTAssertEqual(large.completed, requests)
        XCTAssertEqual(large.producer.blockedCycles, 0)
        XCTAssertEqual(unbounded.producer.blockedCycles, 0)
        XCTAssertEqual(large.consumer.busyCycles, unbounded.consumer.busyCycles)
    }

    /// Work stealing under flow control: blocks holding credits stay where their buffer slot is,
    /// so a victim whose queue holds only those answers that it sent nothing, and its thief waits
    /// for the next view. It used to answer "sent N" for blocks the engine kept, and the thief
    /// asked again at once: 1.8 million requests on this run (262 now). A thief asks at most once
    /// per view it receives, per block that finishes on it and per non-empty answer.
    func testStealingUnderFlowControlAsksAtMostOncePerReason() throws {
        let (_, results) = try runInProcess(
            workload: "suite-small", scheduler: .standard("reactive"), edit: { $0.cluster.flowCredits = 64 })
        let kinds = results.messages.byKind
        let steals = kinds["steal"] ?? 0
        XCTAssertGreaterThan(steals, 0, "no cluster ever asked for work: the check is idle")
        XCTAssertLessThanOrEqual(
            steals, (kinds["view"] ?? 0) + results.overall.taskBlocks + results.scheduling.migrations, "\(kinds)")
        XCTAssertEqual(kinds["steal-reply"], steals)
    }
}

/// `admission: {policy: in_flight}`: one admission control in front of every scheduler.
final class AdmissionControlTests: XCTestCase {
    /// The suite in miniature on the small wafer with at most `limit` unfinished requests.
    func run(_ scheduler: String, limit: Int) throws -> (WaferSession, RunSummary.Results) {
        try runInProcess(
            workload: "suite-small", scheduler: .standard(scheduler),
            edit: {
                $0.admission = AdmissionConfig(policy: .inFlight, maxInFlight: limit)
                $0.cluster.queueCapacity = 2
            })
    }

    func testNoSchedulerHasMoreRequestsInFlightThanTheLimitAndNoQueueRejects() throws {
        let limit = 5
        for scheduler in ["octopus", "fifo", "static", "reactive"] {
            let (session, results) = try run(scheduler, limit: limit)
            let records = session.coordinator.records
            XCTAssertEqual(records.count, 64, "\(scheduler): every request ends once")
            let admission = try XCTUnwrap(results.admission)
            XCTAssertGreaterThan(admission.rejected, 0, "\(scheduler): the limit was reached")
            XCTAssertEqual(admission.rejected, results.overall.rejected, "\(scheduler): rejected only on arrival")
            // Queues of two blocks would overflow at once: under admission control they never reject.
            XCTAssertTrue(results.clusterDetails.allSatisfy { $0.rejected == 0 }, scheduler)
            let admitted = records.filter { $0.outcome.cluster >= 0 }
            let refused = records.filter { $0.outcome.cluster < 0 }
            XCTAssertEqual(UInt64(refused.count), admission.rejected)
            XCTAssertTrue(refused.allSatisfy { $0.outcome.tasksDone == 0 && $0.outcome.status == .rejected })
            // At each admission fewer than `limit` earlier requests were unfinished as far as the
            // coordinator knew (their outcomes had not reached it yet).
            for request in admitted {
                let t = request.outcome.injected
                let open = admitted.filter { $0.outcome.injected < t && $0.reported > t }.count
                XCTAssertLessThan(open, limit, "\(scheduler): request \(request.outcome.request) at \(t)")
            }
            // Each refusal found the wafer full.
            for request in refused {
                let t = request.outcome.injected
                let open = admitted.filter { $0.outcome.injected <= t && $0.reported >= t }.count
                XCTAssertGreaterThanOrEqual(open, limit, "\(scheduler): refused request \(request.outcome.request)")
            }
        }
    }

    func testTheAdmissionSectionIsValidated() throws {
        let base = "mesh: {rows: 2, columns: 2}\ncluster: {queue_capacity: 10}\n"
        let auto = try WaferConfigLoader.parse(base + "admission: {policy: in_flight}\n", file: "a.yaml")
        XCTAssertEqual(auto.admissionLimit, 40, "clusters × queue_capacity by default")
        XCTAssertFalse(auto.queuesReject)
        let queues = try WaferConfigLoader.parse(base, file: "a.yaml")
        XCTAssertTrue(queues.queuesReject)
        XCTAssertThrowsError(
            try WaferConfigLoader.parse(base + "admission: {policy: queues, max_in_flight: 3}\n", file: "a.yaml")
        ) { error in
            XCTAssertEqual((error as? ConfigError)?.line, 3)
            XCTAssertTrue("\(error)".contains("in_flight"), "\(error)")
        }
        XCTAssertThrowsError(try WaferConfigLoader.parse(base + "admission: {policy: lottery}\n", file: "a.yaml")) {
            XCTAssertTrue("\($0)".contains("'lottery' is not one of: queues, in_flight"), "\($0)")
        }
    }
}
