import Emulation
import Foundation
import Runtime
import Scheduling
import WaferModel
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

// A scheduler that exists only in this test target — the recipe of docs/scheduling.md, "Adding a
// policy": one placement policy and one dispatch policy, each a small value type, composed and
// registered under a name.

/// Sends every successor to the next cluster in id order (so no flow stays local) and every
/// entry block to a cluster chosen by the request's key.
struct NextClusterPlacement: PlacementPolicy {
    let name = "next-cluster"
    let usesRequestKey = true

    func place(_ request: PlacementRequest, in context: PlacementContext) -> Int {
        guard let origin = request.origin else { return Int(request.key % UInt64(context.mesh.count)) }
        return (origin + 1) % context.mesh.count
    }
}

/// Starts the longest queued block first, on the lowest free TBU that accepts it.
struct LongestFirstDispatch: TBUDispatchPolicy {
    let name = "longest-first"
    func maximumArrays(of tbus: Int) -> Int { 1 }

    func dispatch(queue: QueueView, tbus: [TBUSnapshot], context: DispatchContext)
        -> [DispatchDecision]
    {
        var free = tbus.filter { !$0.isBusy }
        var decisions: [DispatchDecision] = []
        let order = queue.enumerated().sorted {
            ($0.element.predictedCycles, $1.offset) > ($1.element.predictedCycles, $0.offset)
        }
        for (position, task) in order {
            guard let slot = free.firstIndex(where: { $0.accepts(task) }) else { continue }
            decisions.append(DispatchDecision(queuePosition: position, tbu: free[slot].index))
            free.remove(at: slot)
        }
        return decisions
    }
}

enum RoundRobinScheduler {
    static let definition = SchedulerDefinition(
        name: "round-robin", summary: "test: next-cluster placement, longest block first"
    ) { _ in
        Scheduler(
            name: "round-robin", controlPlane: .cbu, routing: .placement(NextClusterPlacement()),
            dispatch: LongestFirstDispatch())
    }

    static let registry = SchedulerRegistry.standard.adding(definition)
}

/// Runs a scheduler defined in the test target across real processes: the coordinator in this
/// process, each cluster a child process running this test bundle again (as the host test below),
/// with the extended registry on both sides.
final class CustomSchedulerTests: XCTestCase {
    func testASchedulerDefinedInTheTestTargetRunsAcrossProcessesAndEqualsTheOracle() throws {
        let directory = try makeTemporaryDirectory("custom-scheduler")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = try WaferConfigLoader.load(path: repositoryRoot + "/Configs/wafers/small-2x2.yaml")
        let library = try WorkflowLibrary.load(directory: repositoryRoot + "/Configs/workflows")
        let injections = try WorkloadLoader.load(
            path: repositoryRoot + "/Configs/workloads/suite-small.yaml", known: Set(library.names))
        let scheduler = try RoundRobinScheduler.registry.scheduler("round-robin")
        XCTAssertThrowsError(
            try SchedulerRegistry.standard.scheduler("round-robin"), "only the extended registry knows it")

        // The oracle, in this process.
        let session = WaferSession.inProcess(config: config, library: library, scheduler: scheduler)
        for injection in injections { try session.inject(injection) }
        try session.runUntilIdle()
        let oracle = SummaryBuilder.results(
            session: session, stats: try session.transport.collectStats(end: session.accountingEnd))

        // The same across processes.
        var options = CoordinatorServer.Options(
            config: config, library: library, listen: "ipc://\(directory)/coordinator",
            control: "ipc://\(directory)/control", outputDirectory: directory + "/out")
        options.scheduler = scheduler
        options.exitWhenIdle = true
        options.log = { _ in }
        let server = try CoordinatorServer(options: options, wake: try WakeSignal())
        let bundle = CommandLine.arguments[0]
        var children: [Process] = []
        defer {
            for child in children where child.isRunning {
                kill(child.processIdentifier, SIGKILL)
                child.waitUntilExit()
            }
        }
        for cluster in 0..<config.clusterCount {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: bundle)
            child.arguments = ["EndToEndTests.CustomSchedulerClusterHost/testHostOneClusterWhenAsked"]
            child.environment = ProcessInfo.processInfo.environment.merging([
                "OCTOPUS_TEST_CLUSTER": "\(cluster)", "OCTOPUS_TEST_COORDINATOR": server.listenEndpoint,
            ]) { $1 }
            child.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            child.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try child.run()
            children.append(child)
        }
        let summary = try server.run(initial: injections)
        for child in children {
            XCTAssertTrue(
                eventually(20) { !child.isRunning }, "cluster host \(child.processIdentifier) exits after STOP")
            XCTAssertEqual(child.terminationStatus, 0)
        }

        XCTAssertEqual(summary.results, oracle, "the multi-process run equals the in-process oracle")
        XCTAssertEqual(summary.results.scheduler, "round-robin")
        XCTAssertEqual(summary.results.overall.completed + summary.results.overall.rejected, 64)
        // The policies are in force: the same wafer with the built-in least-loaded scheduler
        // (control on CBUs, no plan, no balancing either) places and orders work differently.
        let standard = WaferSession.inProcess(config: config, library: library, scheduler: .standard("least-loaded"))
        for injection in injections { try standard.inject(injection) }
        try standard.runUntilIdle()
        let leastLoaded = SummaryBuilder.results(
            session: standard, stats: try standard.transport.collectStats(end: standard.accountingEnd))
        XCTAssertNotEqual(summary.results.messages.byteHops, leastLoaded.messages.byteHops)
        XCTAssertTrue(
            summary.results.clusterDetails.allSatisfy { $0.tbus.contains { $0.tasks > 0 } }, "every cluster ran work")
        XCTAssertEqual(summary.results.emulation.causalityViolations, 0)
    }
}

/// Not a test of its own: the entry point of the cluster processes the test above starts (it
/// skips when run by `swift test`).
final class CustomSchedulerClusterHost: XCTestCase {
    func testHostOneClusterWhenAsked() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let id = environment["OCTOPUS_TEST_CLUSTER"].flatMap(Int.init),
            let coordinator = environment["OCTOPUS_TEST_COORDINATOR"]
        else {
            throw XCTSkip("runs only as a cluster process of CustomSchedulerTests")
        }
        var options = ClusterProcess.Options(coordinator: coordinator, cluster: id, setupTimeout: 30)
        options.registry = RoundRobinScheduler.registry
        try ClusterProcess(options: options).run()
    }
}
