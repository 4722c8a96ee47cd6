import Foundation
import Scheduling
import WaferModel
import XCTest

@testable import Emulation

/// The JSON trace's text, built byte by byte: numbers, microseconds, string literals, and one
/// event of every record kind (runs of the suite rarely reject or block, so the golden digests
/// do not cover those two).
final class ChromeTraceWriterTests: XCTestCase {
    func testDecimalsAndMicroseconds() {
        for value: UInt64 in [0, 7, 9, 10, 99, 100, 1_000_000, 12_345_678_901, UInt64.max] {
            var text = JSONBytes()
            text.append(value)
            XCTAssertEqual(String(decoding: text.bytes, as: UTF8.self), String(value))
        }
        for value in [0, -1, -10, 42, Int.min, Int.max] {
            var text = JSONBytes()
            text.append(value)
            XCTAssertEqual(String(decoding: text.bytes, as: UTF8.self), String(value))
        }
        // (cycles, MHz) → microseconds, exact and without trailing zeros.
        let cases: [(UInt64, UInt64, String)] = [
            (0, 1000, "0"), (1, 1000, "0.001"), (1500, 1000, "1.5"), (12_345_678, 1000, "12345.678"),
            (1, 1, "1"), (1, 3, "0.333333"), (2, 3, "0.666666"), (7, 700, "0.01"), (1_000_001, 1_000_000, "1.000001"),
        ]
        for (cycles, mhz, expected) in cases {
            var text = JSONBytes()
            text.appendMicroseconds(cycles, clockMHz: mhz)
            XCTAssertEqual(String(decoding: text.bytes, as: UTF8.self), expected, "\(cycles) cycles at \(mhz) MHz")
        }
    }

    func testQuotedStringsRoundTrip() throws {
        for text in ["plain", "a\"b\\c", "line\nbreak\r\ttab", "\u{01}\u{1f}", "ünïcode → ✓ 𝄞", ""] {
            let literal = JSONBytes.quoted(text)
            let decoded = try JSONSerialization.jsonObject(with: Data(literal), options: .fragmentsAllowed)
            XCTAssertEqual(decoded as? String, text)
        }
        XCTAssertEqual(String(decoding: JSONBytes.quoted("\u{01}"), as: UTF8.self), "\"\\u0001\"")
    }

    func testEveryRecordKindRendersAsItsEvent() throws {
        let config = try WaferConfigLoader.load(path: repositoryRoot + "/Configs/wafers/small-2x2.yaml")
        let library = try WorkflowLibrary.load(directory: repositoryRoot + "/Configs/workflows")
        let workflow = try XCTUnwrap(
            library.workflows.firstIndex { graph in
                graph.blocks.contains {
                    if case .task(let block) = $0.kind { !block.operations.isEmpty } else { false }
                }
            })
        let graph = library[workflow]
        let blockIndex = try XCTUnwrap(
            graph.blocks.firstIndex {
                if case .task(let block) = $0.kind { !block.operations.isEmpty } else { false }
            })
        guard case .task(let block) = graph.blocks[blockIndex].kind else { return XCTFail("not a task block") }
        let type = TaskType(workflow: workflow, block: blockIndex)
        let name = "\(graph.name)/\(graph.blocks[blockIndex].name)"
        let operation = block.operations.count - 1

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("octopus-kinds-\(getpid()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try ChromeTraceWriter(path: path, config: config, library: library)
        let kinds: [(SliceKind, String, String)] = [
            (.task, "task", name), (.reconfigure, "reconfigure", "configure " + name), (.control, "control", name),
            (.splitPart, "split", name + " (split part)"), (.blocked, "blocked", "blocked: output to " + name),
        ]
        var records = kinds.enumerated().map { index, kind in
            TraceRecord.slice(
                cluster: 1, unit: 2, start: 1500 + UInt64(index), duration: 250, kind: kind.0, taskType: type,
                request: 9)
        }
        records += [
            .slice(
                cluster: 2, unit: 1, start: 2000, duration: 1, kind: .operation, taskType: type,
                request: UInt64(operation)),
            .flowStart(cluster: 0, unit: 1, time: 3000, flow: 77),
            .flowEnd(cluster: 3, unit: 1001, time: 3100, flow: 77),
            .queue(cluster: 1, time: 4000, tasks: 5, busyTBUs: 2, pendingCycles: 12_999),
            .rejected(cluster: 2, time: 5000, request: 11, taskType: type),
            .injected(time: 6000, request: 12, workflow: UInt16(workflow), cluster: 3),
            .inFlight(time: 7000, count: 4),
            .linkBusy(cluster: 0, resource: 1, start: 8000, duration: 64, waited: 3, bytes: 4096),
            // The coordinator's own: a rejection (admission control, the central queue) and the
            // flow it ends.
            .rejected(cluster: -1, time: 9000, request: 13, taskType: type),
            .flowEnd(cluster: -1, unit: TraceUnit.events, time: 9000, flow: 78),
        ]
        try writer.append(records)
        try writer.close()

        let document = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        let events = try XCTUnwrap(document["traceEvents"] as? [[String: Any]])
        XCTAssertEqual(writer.eventCount, events.count)
        let metadata = events.filter { $0["ph"] as? String == "M" }
        XCTAssertEqual(metadata.first?["name"] as? String, "process_name")
        XCTAssertEqual((metadata.first?["args"] as? [String: Any])?["name"] as? String, "coordinator")
        let traced = events.filter { $0["ph"] as? String != "M" }
        XCTAssertEqual(traced.count, records.count)
        let coordinator = config.clusterCount + 1

        for (index, kind) in kinds.enumerated() {
            let event = traced[index]
            XCTAssertEqual(event["ph"] as? String, "X")
            XCTAssertEqual(event["cat"] as? String, kind.1)
            XCTAssertEqual(event["name"] as? String, kind.2)
            XCTAssertEqual(event["pid"] as? Int, 2)
            XCTAssertEqual(event["tid"] as? Int, 2)
            XCTAssertEqual(event["ts"] as? Double, 1.5 + Double(index) / 1000)
            XCTAssertEqual(event["dur"] as? Double, 0.25)
            XCTAssertEqual(event["args"] as? [String: Int], ["request": 9, "cycles": 250])
        }
        var rest = traced[kinds.count...].makeIterator()
        let layer = try XCTUnwrap(rest.next())
        XCTAssertEqual(layer["cat"] as? String, "layer")
        XCTAssertEqual(layer["name"] as? String, block.operations[operation].name)
        XCTAssertEqual(layer["args"] as? [String: Int], ["cycles": 1])
        XCTAssertEqual(layer["dur"] as? Double, 0.001)
        let start = try XCTUnwrap(rest.next())
        XCTAssertEqual(start["ph"] as? String, "s")
        XCTAssertEqual(start["id"] as? Int, 77)
        XCTAssertEqual(start["pid"] as? Int, 1)
        let end = try XCTUnwrap(rest.next())
        XCTAssertEqual(end["ph"] as? String, "f")
        XCTAssertEqual(end["bp"] as? String, "e")
        XCTAssertEqual(end["tid"] as? Int, 1001)
        XCTAssertEqual(end["ts"] as? Double, 3.1)
        let queue = try XCTUnwrap(rest.next())
        XCTAssertEqual(queue["ph"] as? String, "C")
        XCTAssertEqual(queue["args"] as? [String: Int], ["queued_tasks": 5, "busy_tbus": 2, "queued_kcycles": 12])
        let rejected = try XCTUnwrap(rest.next())
        XCTAssertEqual(rejected["ph"] as? String, "i")
        XCTAssertEqual(rejected["s"] as? String, "t")
        XCTAssertEqual(rejected["pid"] as? Int, 3)
        XCTAssertEqual(rejected["tid"] as? Int, Int(TraceUnit.events))
        XCTAssertEqual(rejected["name"] as? String, "rejected " + name)
        XCTAssertEqual(rejected["args"] as? [String: Int], ["request": 11])
        let injected = try XCTUnwrap(rest.next())
        XCTAssertEqual(injected["name"] as? String, graph.name)
        XCTAssertEqual(injected["pid"] as? Int, coordinator)
        XCTAssertEqual(injected["args"] as? [String: Int], ["request": 12, "cluster": 3, "cycle": 6000])
        let inFlight = try XCTUnwrap(rest.next())
        XCTAssertEqual(inFlight["name"] as? String, "requests in flight")
        XCTAssertEqual(inFlight["args"] as? [String: Int], ["requests": 4])
        let link = try XCTUnwrap(rest.next())
        XCTAssertEqual(link["cat"] as? String, "link")
        XCTAssertEqual(link["tid"] as? Int, Int(TraceUnit.router(1)))
        XCTAssertEqual(link["args"] as? [String: Int], ["bytes": 4096, "cycles": 64, "waited_cycles": 3])
        let refused = try XCTUnwrap(rest.next())
        XCTAssertEqual(refused["cat"] as? String, "rejected")
        XCTAssertEqual(refused["pid"] as? Int, coordinator)
        XCTAssertEqual(refused["tid"] as? Int, Int(TraceUnit.events))
        let refusedFlow = try XCTUnwrap(rest.next())
        XCTAssertEqual(refusedFlow["ph"] as? String, "f")
        XCTAssertEqual(refusedFlow["id"] as? Int, 78)
        XCTAssertEqual(refusedFlow["pid"] as? Int, coordinator)
        XCTAssertEqual(refusedFlow["ts"] as? Double, refused["ts"] as? Double)
        // Every participant's events track is named, the coordinator's too.
        let eventsTracks = metadata.filter {
            $0["name"] as? String == "thread_name" && $0["tid"] as? Int == Int(TraceUnit.events)
                && ($0["args"] as? [String: Any])?["name"] as? String == "events"
        }
        XCTAssertEqual(Set(eventsTracks.compactMap { $0["pid"] as? Int }), Set(1...coordinator))
    }
}
