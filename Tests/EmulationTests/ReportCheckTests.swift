import Scheduling
import WaferModel
import XCTest

@testable import Emulation

/// What the coordinator accepts in a cluster's window report (``ReportCheck``): everything an
/// honest cluster sends passes (the multi-process end-to-end tests run with the check on), and
/// each reference to something the wafer does not have is refused with a reason naming it.
final class ReportCheckTests: XCTestCase {
    private var check: ReportCheck!
    private var withoutCentralQueue: ReportCheck!
    private var taskType: TaskType!
    private var operationCount = 0
    private var blockCount = 0
    private var workflowCount = 0
    /// A loop of another workflow, and the most body runs it allows.
    private var loopBlock = 0
    private var loopMaximum = 0
    /// The join of the fan-out the task's block is inside.
    private var joinBlock = 0
    /// A block in the body of `loopBlock`.
    private var loopTaskType: TaskType!

    override func setUpWithError() throws {
        // small-2x2: four clusters of three TBUs.
        let config = try WaferConfigLoader.load(path: repositoryRoot + "/Configs/wafers/small-2x2.yaml")
        let library = try WorkflowLibrary.load(directory: repositoryRoot + "/Configs/workflows")
        // `fifo`: a central queue, so clusters also send ready blocks and releases.
        check = ReportCheck(config: config, library: library, scheduler: .standard("fifo"))
        withoutCentralQueue = ReportCheck(config: config, library: library, scheduler: .octopus)
        func isLoop(_ block: WorkflowBlock) -> Bool { if case .control(.loop) = block.kind { true } else { false } }
        func isTask(_ block: WorkflowBlock) -> Bool { if case .task = block.kind { true } else { false } }
        // A task block inside a fan-out, so that a task there carries a fan-out frame.
        var found: (workflow: Int, block: Int, join: Int)?
        for (workflow, graph) in library.workflows.enumerated() where found == nil {
            let structure = WorkflowStructure(graph)
            for (fanout, region) in structure.fanoutRegions.sorted(by: { $0.key < $1.key }) {
                if let block = region.sorted().first(where: { isTask(graph.blocks[$0]) }),
                    let join = WorkflowStructure.join(of: fanout, in: graph), found == nil
                {
                    found = (workflow, block, join)
                }
            }
        }
        let (workflow, block, join) = try XCTUnwrap(found)
        joinBlock = join
        // And a task block inside a loop of another workflow, for loop frames.
        let loopWorkflow = try XCTUnwrap(library.workflows.firstIndex { $0.blocks.contains(where: isLoop) })
        loopBlock = try XCTUnwrap(library[loopWorkflow].blocks.firstIndex(where: isLoop))
        guard case .control(.loop(let body, _, _, _, let most)) = library[loopWorkflow].blocks[loopBlock].kind else {
            return XCTFail("not a loop")
        }
        loopMaximum = most
        loopTaskType = TaskType(workflow: loopWorkflow, block: body)
        guard case .task(let task) = library[workflow].blocks[block].kind else { return XCTFail("not a task") }
        taskType = TaskType(workflow: workflow, block: block)
        operationCount = task.operations.count
        blockCount = library[workflow].blocks.count
        workflowCount = library.workflows.count
    }

    private func task(_ edit: (inout TaskMessage) -> Void = { _ in }) -> TaskMessage {
        var task = TaskMessage(
            request: 9, taskType: taskType, bytes: 512, injected: 100, tasksDone: 3, flow: 42,
            fanouts: [FanoutFrame(home: 3, id: 3, item: 2, join: UInt16(joinBlock))])
        edit(&task)
        return task
    }

    private func load(_ edit: @escaping (inout ClusterLoad) -> Void = { _ in }) -> ClusterLoad {
        var load = ClusterLoad(
            cluster: 1, tbus: 3, busyTBUs: 2, queuedTasks: 5, pendingCycles: 77_000,
            byType: [TaskTypeLoad(taskType: taskType, queuedTasks: 3, pendingCycles: 40_000)],
            configurations: [taskType, nil, taskType],
            finished: [TypeRuns(taskType: taskType, runs: 4, cycles: 1234.5, squares: 9.75e6)], running: [taskType],
            started: [RequestBlock(request: 9, taskType: taskType)])
        edit(&load)
        return load
    }

    /// An envelope from cluster 1, sent in the window [1,000, 5,000).
    private func problem(_ message: Message, to destination: ParticipantID, sent: Cycle = 1000, arrival: Cycle = 1100)
        -> String?
    {
        check.problem(
            with: Envelope(
                source: .cluster(1), destination: destination, sendTime: sent, arrival: arrival, sequence: 1,
                message: message),
            from: 1, window: 1000..<5000)
    }

    private func assertRefused(_ problem: String?, _ words: String..., line: UInt = #line) {
        guard let problem else { return XCTFail("accepted", line: line) }
        for word in words { XCTAssertTrue(problem.contains(word), "'\(problem)' does not say '\(word)'", line: line) }
    }

    func testWhatAnHonestClusterSendsPasses() {
        let honest: [(Message, ParticipantID)] = [
            (.task(task()), .cluster(2)),
            (.task(task { $0.credit = 0 }), .cluster(1)),
            (
                .outcome(
                    RequestOutcome(
                        request: 9, workflow: UInt16(taskType.workflow), injected: 100, finished: 900,
                        status: .completed, tasksDone: 4, cluster: 1)), .coordinator
            ),
            (.load(load()), .coordinator),
            (.ready(ReadyTask(task: task(), origin: 1, pinned: 3)), .coordinator),
            (.ready(ReadyTask(task: task(), origin: 1)), .coordinator),
            (.release(TBURelease(cluster: 1, units: 3)), .coordinator),
            (.stall(FlowStall(cluster: 1, stalled: true, waiting: [CreditCount(cluster: 2, count: 4)])), .coordinator),
            (.balance(BalanceSignal(kind: .request, cluster: 1, cycles: 12_345, count: 4)), .cluster(0)),
            (.transit(Transit(task: task(), destination: 3, tail: 4_567, entering: false)), .cluster(3)),
            (.credit(FlowCredit(cluster: 1)), .cluster(2)),
        ]
        for (message, destination) in honest {
            XCTAssertNil(problem(message, to: destination), message.kindName)
        }
        XCTAssertNil(problem(.task(task()), to: .cluster(2), sent: 1000, arrival: 1000), "arriving when sent")
        XCTAssertNil(check.problem(nextEvent: 5000, earliestOutput: .never, windowEnd: 5000))
        let records: [TraceRecord] = [
            .slice(cluster: 1, unit: 2, start: 1, duration: 2, kind: .task, taskType: taskType, request: 9),
            .slice(
                cluster: 1, unit: 2, start: 1, duration: 2, kind: .operation, taskType: taskType,
                request: UInt64(operationCount - 1)),
            .flowStart(cluster: 1, unit: 2, time: 3, flow: 4), .flowEnd(cluster: 1, unit: 0, time: 3, flow: 4),
            .queue(cluster: 1, time: 3, tasks: 1, busyTBUs: 1, pendingCycles: 5),
            .rejected(cluster: 1, time: 3, request: 9, taskType: taskType),
            .linkBusy(cluster: 1, resource: 2, start: 1, duration: 2, waited: 0, bytes: 64),
        ]
        for record in records { XCTAssertNil(check.problem(with: record, from: 1), "\(record)") }
    }

    func testMessagesGoOnlyWhereTheirKindTravels() {
        // Ready blocks and releases go to a central queue, and only a scheduler with one has it
        // (the coordinator trapped on a ready block without one).
        for message in [
            Message.ready(ReadyTask(task: task(), origin: 1, pinned: -1)), .release(TBURelease(cluster: 1, units: 1)),
        ] {
            let envelope = Envelope(
                source: .cluster(1), destination: .coordinator, sendTime: 1000, arrival: 1100, sequence: 1,
                message: message)
            XCTAssertNil(check.problem(with: envelope, from: 1, window: 1000..<5000))
            assertRefused(
                withoutCentralQueue.problem(with: envelope, from: 1, window: 1000..<5000),
                "to coordinator, which clusters send only to a central queue")
        }
        let view = Message.view(LoadViewUpdate(time: 5, clusters: [load()]))
        assertRefused(problem(view, to: .coordinator), "view message to coordinator", "never send")
        assertRefused(problem(view, to: .cluster(2)), "view message to cluster 2")
        assertRefused(
            problem(.plan(WaferPlan(epoch: 1, reserved: [], weights: [], configure: [])), to: .cluster(0)), "plan")
        assertRefused(problem(.load(load()), to: .cluster(2)), "load message to cluster 2")
        assertRefused(problem(.task(task()), to: .coordinator), "task message to coordinator")
        assertRefused(problem(.task(task()), to: .cluster(4)), "cluster 4")
        assertRefused(problem(.task(task()), to: ParticipantID(rawValue: -5)), "never send")
    }

    func testEveryNameMustExistOnTheWafer() {
        let badWorkflow = TaskType(workflow: workflowCount, block: 0)
        let badBlock = TaskType(workflow: Int(taskType.workflow), block: blockCount)
        assertRefused(problem(.task(task { $0.taskType = badWorkflow }), to: .cluster(2)), "workflow \(workflowCount)")
        assertRefused(problem(.task(task { $0.taskType = badBlock }), to: .cluster(2)), "block \(blockCount)")
        // Loop frames: in a loop's body, at an iteration the loop allows.
        func inLoop(_ edit: (inout LoopFrame) -> Void) -> TaskMessage {
            var frame = LoopFrame(block: UInt16(loopBlock), iteration: 2, trips: 5)
            edit(&frame)
            return TaskMessage(
                request: 9, taskType: loopTaskType, bytes: 512, injected: 100, tasksDone: 3, loops: [frame])
        }
        XCTAssertNil(problem(.task(inLoop { _ in }), to: .cluster(2)))
        XCTAssertNil(problem(.task(inLoop { $0.iteration = UInt32(loopMaximum) }), to: .cluster(2)))
        assertRefused(problem(.task(inLoop { $0.block = 1000 }), to: .cluster(2)), "loop block 1000")
        assertRefused(
            problem(.task(inLoop { $0.block = UInt16(loopTaskType.block) }), to: .cluster(2)),
            "names block \(loopTaskType.block), which is not a loop")
        assertRefused(
            problem(.task(inLoop { $0.iteration = UInt32(loopMaximum) + 1 }), to: .cluster(2)),
            "at iteration \(loopMaximum + 1), past the loop's maximum of \(loopMaximum)")
        assertRefused(problem(.task(inLoop { $0.iteration = .max }), to: .cluster(2)), "past the loop's maximum")
        // Fan-out frames: the block inside the fan-out that joins where the frame says.
        assertRefused(
            problem(.task(task { $0.fanouts[0].join = UInt16(taskType.block) }), to: .cluster(2)),
            "names block \(taskType.block) as its join, which joins no fan-out")
        assertRefused(
            problem(.task(task { $0.fanouts = [$0.fanouts[0], $0.fanouts[0]] }), to: .cluster(2)),
            "block \(joinBlock) is not inside the fan-out that joins at block \(joinBlock)")
        XCTAssertNil(
            problem(
                .task(task { $0.taskType = TaskType(workflow: Int(taskType.workflow), block: joinBlock) }),
                to: .cluster(2)),
            "an item arriving at its join")
        assertRefused(
            problem(
                .task(task { $0.taskType = TaskType(workflow: Int(taskType.workflow), block: 0) }), to: .cluster(2)),
            "block 0 is not inside the fan-out")
        assertRefused(
            problem(.task(task { $0.fanouts[0].join = UInt16(blockCount) }), to: .cluster(2)), "join block")
        assertRefused(problem(.task(task { $0.fanouts[0].home = 4 }), to: .cluster(2)), "fan-out home 4")
        assertRefused(problem(.task(task { $0.credit = 7 }), to: .cluster(2)), "credited cluster 7")
        assertRefused(
            problem(.ready(ReadyTask(task: task(), origin: 1, pinned: 9)), to: .coordinator), "pinned cluster 9")
        assertRefused(
            problem(.transit(Transit(task: task(), destination: -2, tail: 1, entering: true)), to: .cluster(3)),
            "destination -2")
        assertRefused(
            problem(
                .outcome(
                    RequestOutcome(
                        request: 9, workflow: UInt16(workflowCount), injected: 1, finished: 2, status: .completed,
                        tasksDone: 1, cluster: 1)), to: .coordinator), "workflow \(workflowCount)")
        assertRefused(
            problem(
                .stall(FlowStall(cluster: 1, stalled: true, holding: [CreditCount(cluster: 8, count: 1)])),
                to: .coordinator), "credited cluster 8")
        assertRefused(problem(.release(TBURelease(cluster: 1, units: 4)), to: .coordinator), "4 TBUs of its 3")
        for (edit, words) in [
            ({ (load: inout ClusterLoad) in load.configurations = [nil, nil, nil, nil] }, "4 configurations"),
            ({ $0.byType[0].taskType = badBlock }, "block \(blockCount)"),
            ({ $0.running = [badWorkflow] }, "workflow \(workflowCount)"),
            ({ $0.started = [RequestBlock(request: 1, taskType: badBlock)] }, "block \(blockCount)"),
            ({ $0.configurations = [badWorkflow] }, "workflow \(workflowCount)"),
            ({ $0.queuedTasks = -1 }, "-1 queued"),
            ({ $0.byType[0].queuedTasks = -3 }, "count of queued blocks or cycles below 0"),
            ({ $0.finished[0].cycles = .nan }, "nan cycles"),
            ({ $0.finished[0].squares = -.infinity }, "-inf squared"),
        ] as [((inout ClusterLoad) -> Void, String)] {
            assertRefused(problem(.load(load(edit)), to: .coordinator), "load message", words)
        }
    }

    func testAMessageThatSpeaksForItsSenderNamesIt() {
        for message: Message in [
            .load(load { $0.cluster = 2 }),
            .ready(ReadyTask(task: task(), origin: 0)),
            .release(TBURelease(cluster: 3, units: 1)),
            .stall(FlowStall(cluster: 0, stalled: false)),
            .outcome(
                RequestOutcome(
                    request: 1, workflow: 0, injected: 1, finished: 2, status: .rejected, tasksDone: 0, cluster: 2)),
        ] {
            assertRefused(problem(message, to: .coordinator), "speaks for cluster")
        }
        for message: Message in [
            .balance(BalanceSignal(kind: .load, cluster: 2, cycles: 1, count: 1)), .credit(FlowCredit(cluster: 0)),
        ] {
            assertRefused(problem(message, to: .cluster(3)), "speaks for cluster")
        }
        let forged = Envelope(
            source: .cluster(2), destination: .cluster(0), sendTime: 1000, arrival: 1100, sequence: 1,
            message: .task(task()))
        assertRefused(check.problem(with: forged, from: 1, window: 1000..<5000), "sent by cluster 2")
    }

    func testNothingLiesBeforeTheWindowOrArrivesBeforeItIsSent() {
        assertRefused(problem(.task(task()), to: .cluster(2), sent: 999, arrival: 1100), "sent at cycle 999")
        assertRefused(problem(.task(task()), to: .cluster(2), sent: 1200, arrival: 1100), "arriving at 1100")
        assertRefused(problem(.task(task()), to: .cluster(2), sent: 5000, arrival: 5100), "sent at cycle 5000")
        XCTAssertNil(
            problem(.task(task()), to: .cluster(2), sent: 4999, arrival: 5100), "sent in the window's last cycle")
        assertRefused(check.problem(nextEvent: 4999, earliestOutput: 6000, windowEnd: 5000), "next event at cycle 4999")
        assertRefused(
            check.problem(nextEvent: 6000, earliestOutput: 10, windowEnd: 5000), "earliest output at cycle 10")
    }

    func testTraceRecordsAreTheSendersOwnAndNameWhatExists() {
        let records: [(TraceRecord, String)] = [
            (
                .slice(cluster: 2, unit: 1, start: 1, duration: 1, kind: .task, taskType: taskType, request: 1),
                "cluster 2"
            ),
            (
                .slice(
                    cluster: 1, unit: 1, start: 1, duration: 1, kind: .task,
                    taskType: TaskType(workflow: workflowCount, block: 0), request: 1), "workflow \(workflowCount)"
            ),
            (
                .slice(
                    cluster: 1, unit: 1, start: 1, duration: 1, kind: .operation, taskType: taskType,
                    request: UInt64(operationCount)), "operation \(operationCount)"
            ),
            (
                .slice(
                    cluster: 1, unit: 1, start: 1, duration: 1, kind: .operation, taskType: taskType,
                    request: .max), "no such operation"
            ),
            (.flowStart(cluster: -1, unit: 1, time: 1, flow: 2), "cluster -1"),
            (.queue(cluster: 0, time: 1, tasks: 1, busyTBUs: 1, pendingCycles: 1), "cluster 0"),
            (
                .rejected(
                    cluster: 1, time: 1, request: 1, taskType: TaskType(workflow: Int(taskType.workflow), block: 999)),
                "block 999"
            ),
            (.injected(time: 1, request: 1, workflow: 999, cluster: 1), "coordinator's"),
            (.inFlight(time: 1, count: 1), "coordinator's"),
        ]
        for (record, words) in records { assertRefused(check.problem(with: record, from: 1), words) }
    }

    /// The statistics every cluster of a real run sends pass (the contention link model fills
    /// every table: links, occupancy, ports); each reference to what the wafer lacks is refused.
    func testStatisticsOfARealRunPassAndForgedOnesAreRefused() throws {
        let (session, _) = try runInProcess(workload: "suite-small", edit: { $0.interconnect.model = .contention })
        let end = session.accountingEnd
        let stats = try session.transport.collectStats(end: end)
        XCTAssertEqual(stats.count, 4)
        XCTAssertFalse(stats.allSatisfy { $0.links.ports.isEmpty }, "no port carried a transfer")
        for report in stats {
            XCTAssertNil(check.problem(with: report, from: report.cluster, end: end), "cluster \(report.cluster)")
        }
        let honest = try XCTUnwrap(stats.first { !$0.links.bytes.isEmpty })
        let cluster = honest.cluster
        XCTAssertNotNil(check.problem(with: honest, from: (cluster + 1) % 4, end: end))
        var forged = honest
        forged.tbus.append(TBUStats())
        assertRefused(check.problem(with: forged, from: cluster, end: end), "statistics of 4 TBUs")
        forged = honest
        forged.blockRuns[TaskType(workflow: workflowCount, block: 0)] = 1
        assertRefused(check.problem(with: forged, from: cluster, end: end), "workflow \(workflowCount)")
        forged = honest
        forged.links = LinkTraffic(bytes: [10_000: 1], transfers: [:], occupancy: [:], ports: [:])
        assertRefused(check.problem(with: forged, from: cluster, end: end), "link 10000")
        // Cluster 0 (top left) has no link to the north: index 4 × 0 + 0.
        forged.links = LinkTraffic(bytes: [:], transfers: [0: 1], occupancy: [:], ports: [:])
        assertRefused(check.problem(with: forged, from: cluster, end: end), "link 0")
        forged.links = LinkTraffic(bytes: [:], transfers: [:], occupancy: [:], ports: [8: LinkOccupancy()])
        assertRefused(check.problem(with: forged, from: cluster, end: end), "port 8")
        // The idle timeline is merged bin by bin into the coordinator's: its bins must be the run's.
        let idle = try XCTUnwrap(honest.idleTimeline)
        for timeline in [
            IdleTimeline(width: 0, starved: idle.starved, unassigned: idle.unassigned),
            IdleTimeline(width: idle.width * 2, starved: idle.starved, unassigned: idle.unassigned),
            IdleTimeline(width: idle.width, starved: idle.starved + [0], unassigned: idle.unassigned),
            IdleTimeline(
                width: idle.width, starved: idle.starved + Array(repeating: 0, count: 500),
                unassigned: idle.unassigned + Array(repeating: 0, count: 500)),
        ] {
            forged = honest
            forged.idleTimeline = timeline
            assertRefused(check.problem(with: forged, from: cluster, end: end), "idle timeline")
        }
    }

    /// The check names references, not amounts: statistics that name only what exists pass
    /// whatever they count, so the coordinator's sums of them saturate instead of trapping — here
    /// every count of every cluster at 2^64 − 1.
    func testCountsAtTheirLargestAreSummedWithoutTrapping() throws {
        let (session, _) = try runInProcess(workload: "suite-small", edit: { $0.interconnect.model = .contention })
        let end = session.accountingEnd
        let huge = UInt64.max
        let stats = try session.transport.collectStats(end: end).map { honest in
            var s = honest
            for index in s.tbus.indices {
                s.tbus[index].tasks = huge
                s.tbus[index].busyCycles = huge
                s.tbus[index].reconfigurationCycles = huge
                s.tbus[index].reconfigurations = huge
                s.tbus[index].starvedCycles = huge
                s.tbus[index].unassignedCycles = huge
                s.tbus[index].blockedCycles = huge
            }
            for key in s.messagesSent.keys { s.messagesSent[key] = huge }
            for key in s.blockRuns.keys { s.blockRuns[key] = huge }
            s.links = LinkTraffic(
                bytes: s.links.bytes.mapValues { _ in huge }, transfers: s.links.transfers.mapValues { _ in huge },
                occupancy: s.links.occupancy, ports: s.links.ports)
            (s.byteHops, s.localFlows, s.events, s.decisions, s.decisionNanos) = (huge, huge, huge, huge, huge)
            (s.fanoutItems, s.earlyExits, s.splits, s.migrations, s.migrationByteHops) = (huge, huge, huge, huge, huge)
            (s.controlOnTBUs, s.proactiveReconfigurations, s.quantumDelayedMessages) = (huge, huge, huge)
            (s.quantumDelayCycles, s.causalityViolations) = (huge, huge)
            if let idle = s.idleTimeline {
                s.idleTimeline = IdleTimeline(
                    width: idle.width, starved: idle.starved.map { _ in huge },
                    unassigned: idle.unassigned.map { _ in huge })
            }
            return s
        }
        for report in stats { XCTAssertNil(check.problem(with: report, from: report.cluster, end: end)) }
        let results = SummaryBuilder.results(session: session, stats: stats)
        XCTAssertEqual(results.messages.total, huge)
        XCTAssertEqual(results.messages.byteHops, huge)
        XCTAssertEqual(results.emulation.events, huge)
        XCTAssertEqual(results.scheduling.reconfigurations, huge)
        XCTAssertEqual(results.fanoutItems, huge)
        let links = try XCTUnwrap(results.links)
        XCTAssertFalse(links.isEmpty)
        XCTAssertTrue(links.allSatisfy { $0.bytes == huge && $0.transfers == huge })
        let host = SummaryBuilder.host(session: session, results: results, wallSeconds: 1, processes: 5, stats: stats)
        XCTAssertEqual(host.taskBlocksPerSecond, Double(huge))
        let idle = try XCTUnwrap(stats[0].idleTimeline)
        XCTAssertTrue(idle.coarsened(to: idle.width * 4).starved.allSatisfy { $0 == huge })
    }

    /// Times the coordinator subtracts or adds up: a request finishes after its injection and is
    /// reported when it finishes, a block is sent on after its request was injected, a load's
    /// counts and cycles stay within what a run can hold, and a trace record within the horizon.
    func testTimesAndCountsTheCoordinatorComputesWithAreBounded() {
        func outcome(injected: Cycle, finished: Cycle) -> Message {
            .outcome(
                RequestOutcome(
                    request: 9, workflow: UInt16(taskType.workflow), injected: injected, finished: finished,
                    status: .completed, tasksDone: 4, cluster: 1))
        }
        XCTAssertNil(problem(outcome(injected: 100, finished: 1000), to: .coordinator))
        assertRefused(
            problem(outcome(injected: 900, finished: 100), to: .coordinator), "request 9 injected at cycle 900")
        assertRefused(problem(outcome(injected: 100, finished: 1001), to: .coordinator), "finished at 1001")
        let late = task { $0.injected = 1001 }
        assertRefused(problem(.task(late), to: .cluster(2)), "injected at cycle 1001")
        assertRefused(problem(.ready(ReadyTask(task: late, origin: 1)), to: .coordinator), "injected at cycle 1001")
        assertRefused(
            problem(.transit(Transit(task: late, destination: 3, tail: 1, entering: false)), to: .cluster(3)),
            "injected at cycle 1001")
        for (edit, words) in [
            ({ (load: inout ClusterLoad) in load.tbus = 4 }, "of 4 TBUs"),
            ({ $0.busyTBUs = 4 }, "4 busy"),
            ({ $0.queuedTasks = Int(Limits.horizon) + 1 }, "\(Limits.horizon + 1) queued"),
            ({ $0.pendingCycles = Limits.horizon + 1 }, "load message"),
            ({ $0.byType[0].pendingCycles = .max }, "past the horizon"),
            ({ $0.finished[0].cycles = 4 * Double(Limits.horizon) * 2 }, "cycles"),
            ({ $0.finished[0].squares = .greatestFiniteMagnitude }, "squared"),
        ] as [((inout ClusterLoad) -> Void, String)] {
            assertRefused(problem(.load(load(edit)), to: .coordinator), "load message", words)
        }
        let horizon = Limits.horizon
        for record: TraceRecord in [
            .slice(cluster: 1, unit: 1, start: horizon + 1, duration: 1, kind: .task, taskType: taskType, request: 1),
            .slice(cluster: 1, unit: 1, start: 1, duration: .max, kind: .task, taskType: taskType, request: 1),
            .linkBusy(cluster: 1, resource: 0, start: 1, duration: horizon + 1, waited: 0, bytes: 1),
            .queue(cluster: 1, time: .max, tasks: 1, busyTBUs: 1, pendingCycles: 1),
        ] {
            assertRefused(check.problem(with: record, from: 1), "past the horizon")
        }
        XCTAssertNil(
            check.problem(
                with: .slice(
                    cluster: 1, unit: 1, start: horizon, duration: horizon, kind: .task, taskType: taskType, request: 1),
                from: 1))
    }
}
