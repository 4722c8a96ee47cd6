import Foundation
import XCTest

@testable import Runtime

/// Where `octopus run` pins a wafer's processes: the coordinator with the first cluster process
/// on the CPU it starts on, the others on the allowed CPUs in turn; nothing when there is one.
final class CoreLayoutTests: XCTestCase {
    func testTheCoordinatorSharesItsCPUWithTheFirstProcessAndTheOthersTakeTurns() throws {
        let layout = try XCTUnwrap(CoreLayout(cpus: [0, 1], startingAt: 1, clusterProcesses: 5))
        XCTAssertEqual(layout.coordinator, 1)
        XCTAssertEqual(layout.clusterProcesses, [1, 0, 1, 0, 1])
        // Allowed CPUs need not start at 0 or be consecutive (a cpuset, taskset).
        let sparse = try XCTUnwrap(CoreLayout(cpus: [6, 2, 4], startingAt: 4, clusterProcesses: 4))
        XCTAssertEqual(sparse, CoreLayout(coordinator: 4, clusterProcesses: [4, 6, 2, 4]))
        // One process: it and the coordinator share the CPU (they take turns within a round).
        XCTAssertEqual(
            CoreLayout(cpus: [0, 1, 2, 3], startingAt: 2, clusterProcesses: 1),
            CoreLayout(coordinator: 2, clusterProcesses: [2]))
    }

    func testAnUnknownOrForeignStartingCPUStartsAtTheFirstAllowedOne() {
        XCTAssertEqual(
            CoreLayout(cpus: [3, 5], startingAt: nil, clusterProcesses: 3),
            CoreLayout(coordinator: 3, clusterProcesses: [3, 5, 3]))
        XCTAssertEqual(
            CoreLayout(cpus: [3, 5], startingAt: 0, clusterProcesses: 2),
            CoreLayout(coordinator: 3, clusterProcesses: [3, 5]))
        // Duplicates count once.
        XCTAssertEqual(
            CoreLayout(cpus: [5, 3, 5], startingAt: 5, clusterProcesses: 3),
            CoreLayout(coordinator: 5, clusterProcesses: [5, 3, 5]))
    }

    func testByDefaultOnlyProcessesNoMoreThanTheCPUsArePinned() {
        XCTAssertTrue(CPUPinning.automatic.pins(clusterProcesses: 1, cpus: 2))
        XCTAssertTrue(CPUPinning.automatic.pins(clusterProcesses: 2, cpus: 2))
        XCTAssertFalse(CPUPinning.automatic.pins(clusterProcesses: 3, cpus: 2))
        XCTAssertFalse(CPUPinning.automatic.pins(clusterProcesses: 256, cpus: 2))
        XCTAssertTrue(CPUPinning.always.pins(clusterProcesses: 256, cpus: 2))
        XCTAssertFalse(CPUPinning.never.pins(clusterProcesses: 1, cpus: 64))
    }

    func testNothingIsPinnedWithFewerThanTwoCPUs() {
        XCTAssertNil(CoreLayout(cpus: [], startingAt: nil, clusterProcesses: 4))
        XCTAssertNil(CoreLayout(cpus: [7], startingAt: 7, clusterProcesses: 4))
        XCTAssertNil(CoreLayout(cpus: [7, 7], startingAt: 7, clusterProcesses: 4))
    }

    func testEveryProcessGetsAnAllowedCPUAndTheyAreSpreadEvenly() throws {
        for count in 2...6 {
            let cpus = Array(0..<count).map { $0 * 2 }
            for start in cpus {
                for processes in 0...13 {
                    let layout = try XCTUnwrap(CoreLayout(cpus: cpus, startingAt: start, clusterProcesses: processes))
                    XCTAssertEqual(layout.coordinator, start)
                    XCTAssertEqual(layout.clusterProcesses.count, processes)
                    XCTAssertTrue(layout.clusterProcesses.allSatisfy(cpus.contains))
                    let perCPU = Dictionary(grouping: layout.clusterProcesses, by: { $0 }).mapValues(\.count)
                    if processes > 0 {
                        XCTAssertEqual(layout.clusterProcesses.first, start)
                        XCTAssertLessThanOrEqual(
                            (perCPU.values.max() ?? 0) - (processes >= count ? perCPU.values.min() ?? 0 : 0), 1,
                            "\(processes) processes over \(cpus) from \(start): \(layout.clusterProcesses)")
                    }
                }
            }
        }
    }

    /// The calls themselves, on a thread of its own: pinned to one allowed CPU it reports that
    /// CPU alone, and runs there; given back its mask it reports it again.
    func testAThreadPinnedToACPURunsThere() throws {
        let allowed = CPUAffinity.allowed()
        try XCTSkipIf(allowed.isEmpty, "this system reports no CPU affinity")
        XCTAssertEqual(allowed, allowed.sorted())
        XCTAssertTrue(allowed.contains(try XCTUnwrap(CPUAffinity.current())))
        let target = allowed.last!
        final class Seen: @unchecked Sendable {
            var pinned: [Int] = []
            var current: Int?
            var restored: [Int] = []
            var refused = false
            var pinnedAtAll = false
            var restoredAtAll = false
        }
        let seen = Seen()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            seen.pinnedAtAll = CPUAffinity.pinCurrentThread(to: [target])
            seen.pinned = CPUAffinity.allowed()
            seen.current = CPUAffinity.current()
            seen.refused = !CPUAffinity.pinCurrentThread(to: [1 << 20])
            seen.restoredAtAll = CPUAffinity.pinCurrentThread(to: allowed)
            seen.restored = CPUAffinity.allowed()
            done.signal()
        }
        thread.start()
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertTrue(seen.pinnedAtAll)
        XCTAssertTrue(seen.restoredAtAll)
        XCTAssertEqual(seen.pinned, [target])
        XCTAssertEqual(seen.current, target)
        XCTAssertTrue(seen.refused, "a CPU the machine lacks is refused")
        XCTAssertEqual(seen.restored, allowed)
        // This thread was not touched.
        XCTAssertEqual(CPUAffinity.allowed(), allowed)
        XCTAssertEqual(CPUAffinity.describe([0, 1, 2, 5, 7, 8]), "0-2,5,7-8")
        XCTAssertEqual(CPUAffinity.describe([]), "")
    }
}
