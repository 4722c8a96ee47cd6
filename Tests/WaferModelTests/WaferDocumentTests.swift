import Foundation
import XCTest

@testable import WaferModel

/// What a run writes as `wafer.json` (``WaferConfig/document()``) is a wafer file the loader reads
/// back to the same configuration.
final class WaferDocumentTests: XCTestCase {
    func testEveryShippedWaferAndEveryOptionRoundTrips() throws {
        let directory = repositoryRoot + "/Configs/wafers"
        var configs: [WaferConfig] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        where file.hasSuffix(".yaml") {
            configs.append(try WaferConfigLoader.load(path: directory + "/" + file))
        }
        // Options the shipped wafers leave at their defaults, and defects drawn from a yield.
        configs.append(
            try WaferConfigLoader.parse(
                """
                name: every/option
                clock_mhz: 1500
                seed: 9223372036854775807
                mesh: {rows: 4, columns: 6, die_rows: 2, die_columns: 3}
                links:
                  model: contention
                  port_bandwidth_bytes_per_cycle: 48
                  intra_die: {hop_latency_cycles: 7, bandwidth_bytes_per_cycle: 96}
                  inter_die: {hop_latency_cycles: 333, bandwidth_bytes_per_cycle: 12}
                  control_latency_cycles: 55
                cluster:
                  tbus: 5
                  cbus: 2
                  buffer_bytes: 1048576
                  buffer_refill_bytes_per_cycle: 7
                  queue_capacity: 9
                  reconfiguration_cycles: 1234
                  control_block_cycles: 17
                  load_signal_period_cycles: 4321
                  overlap_fill: true
                  flow_credits: 3
                  pe_array: {rows: 24, columns: 40, dataflow: is, sram_bytes: 200000, bandwidth_bytes_per_cycle: 48, word_bytes: 1}
                sync: {mode: quantum, window_cycles: 777, speculation: false}
                admission: {policy: in_flight, max_in_flight: 99}
                defects:
                  clusters: [5]
                  tbus: [{cluster: 0, tbu: 4}]
                  links: [[1, 2]]
                  yield: {tbus: 0.1, seed: 3}
                """, file: "every-option.yaml"))
        XCTAssertGreaterThan(configs.count, 6)
        for config in configs {
            let text = try XCTUnwrap(String(data: config.document(), encoding: .utf8))
            let again = try WaferConfigLoader.parse(text, file: "\(config.name)/wafer.json")
            XCTAssertEqual(again, config, "\(config.name): \(text)")
            XCTAssertEqual(again.document(), config.document(), config.name)
            XCTAssertFalse(text.contains(#"\/"#), "slashes are written as they are: \(text)")
        }
        let everyOption = try XCTUnwrap(configs.last)
        XCTAssertGreaterThan(everyOption.defects.tbus.count, 1, "the yield drew TBUs, written as a list")
    }
}
