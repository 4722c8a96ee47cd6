import Foundation
import Scheduling
import WaferModel
import XCTest

@testable import Emulation

/// The Perfetto trace's bytes depend on the records only: not on how the run was cut into
/// windows, nor on copies taken while it runs (`ctl trace`).
final class PerfettoTraceWriterTests: XCTestCase {
    func testBytesDependOnTheRecordsOnly() throws {
        let config = try WaferConfigLoader.load(path: repositoryRoot + "/Configs/wafers/small-2x2.yaml")
        let library = try WorkflowLibrary.load(directory: repositoryRoot + "/Configs/workflows")
        // Enough records for several compressed chunks, on every cluster and kind of track.
        var records: [TimedTraceRecord] = []
        for step in 0..<30_000 {
            let time = UInt64(step) * 10
            let cluster = Int32(step % config.clusterCount)
            let type = TaskType(workflow: step % library.workflows.count, block: 0)
            let record: TraceRecord
            switch step % 4 {
            case 0:
                record = .slice(
                    cluster: cluster, unit: 1, start: time, duration: 15, kind: .task, taskType: type,
                    request: UInt64(step))
            case 1: record = .flowStart(cluster: cluster, unit: 1, time: time, flow: UInt64(step))
            case 2:
                record = .queue(
                    cluster: cluster, time: time, tasks: UInt32(step % 7), busyTBUs: 1, pendingCycles: UInt64(step))
            default: record = .inFlight(time: time, count: UInt32(step % 11))
            }
            records.append(TimedTraceRecord(time: time, record: record))
        }
        XCTAssertGreaterThan(records.count * 12, PerfettoTraceWriter.chunkBytes, "more than one chunk")

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("octopus-pf-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        /// Writes `records` in windows of `size` records, copying the trace every `copyEvery` windows.
        func write(_ name: String, windowsOf size: Int, copyEvery: Int? = nil) throws -> Data {
            let path = directory + "/" + name
            let writer = try PerfettoTraceWriter(path: path, config: config, library: library)
            var windows = 0
            for start in stride(from: 0, to: records.count, by: size) {
                try writer.append(window: [Array(records[start..<min(start + size, records.count)])])
                windows += 1
                if let copyEvery, windows % copyEvery == 0 {
                    try writer.snapshot(to: path + ".copy")
                    XCTAssertGreaterThan(try Data(contentsOf: URL(fileURLWithPath: path + ".copy")).count, 0)
                }
            }
            try writer.close()
            return try Data(contentsOf: URL(fileURLWithPath: path))
        }
        let one = try write("one", windowsOf: records.count)
        XCTAssertEqual(try write("small", windowsOf: 7), one, "windows of 7 records")
        XCTAssertEqual(try write("copied", windowsOf: 1000, copyEvery: 3), one, "with copies taken while writing")
    }
}
