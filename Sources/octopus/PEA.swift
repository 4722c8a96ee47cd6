import ArgumentParser
import Foundation
import WaferModel

struct PEA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pea",
        abstract: "Per-layer timing of a PE array on its own (SCALE-Sim-exact compute cycles, plus fill and stalls).",
        discussion: """
            Give a SCALE-Sim config and topology:

            octopus pea --config scale.cfg --topology resnet50.csv [--csv COMPUTE_REPORT.csv]

            or one GEMM (M×K · K×N):

            octopus pea --gemm 3136,64,147 --array 32x32 --dataflow ws

            Topologies may use SCALE-Sim's conv rows (name, H, W, FH, FW, C, filters, stride) or GEMM rows \
            (name, M, N, K); names containing DP are depthwise. The CSV starts with SCALE-Sim's \
            COMPUTE_REPORT.csv columns; its Total Cycles are compute + stall cycles, as SCALE-Sim counts.
            """)

    @Option(help: "SCALE-Sim configuration (.cfg): its [architecture_presets] give the array.") var config: String?
    @Option(help: "SCALE-Sim topology CSV (conv or GEMM rows).") var topology: String?
    @Option(help: "One GEMM as M,N,K.") var gemm: String?
    @Option(help: "Array size RxC (with --gemm, or to override --config).") var array: String?
    @Option(help: "Dataflow os, ws or is (with --gemm, or to override --config).") var dataflow: String?
    @Option(help: "TBU SRAM in bytes (default 512 KiB, or the .cfg's three buffers).") var sramBytes: Int?
    @Option(help: "Link bandwidth in bytes per cycle (default 64, or the .cfg's Bandwidth).") var bandwidth: Int?
    @Option(help: "Cluster buffer in bytes that feeds the array (default: unlimited).") var clusterBufferBytes: Int?
    @Option(help: "Refill bandwidth of the cluster buffer in bytes per cycle (with --cluster-buffer-bytes).")
    var refillBandwidth: Int = 32
    @Option(help: "Set a topology parameter, e.g. --param seq=512 (repeatable).") var param: [String] = []
    @Option(help: "Write the CSV report here.") var csv: String?
    @Flag(help: "Print JSON instead of the table.") var json = false
    @Option(
        name: .customLong("repeat"),
        help: "Evaluate the topology this many times and report layer evaluations per second (for scripts/bench).")
    var repetitions: Int?

    func run() throws {
        do {
            var peArray = PEArrayConfig(rows: 32, columns: 32, dataflow: .os, sramBytes: 512 << 10)
            if let config { peArray = try SCALESimFiles.config(path: config) }
            if let array {
                let parts = array.lowercased().split(separator: "x").compactMap { Int($0) }
                guard parts.count == 2, parts.allSatisfy({ Limits.arraySide.contains($0) }) else {
                    throw ValidationError(
                        "--array must look like 32x32, each side 1…\(Limits.arraySide.upperBound), not '\(array)'")
                }
                peArray.rows = parts[0]
                peArray.columns = parts[1]
            }
            if let dataflow {
                guard let flow = Dataflow(rawValue: dataflow.lowercased()) else {
                    throw ValidationError("--dataflow must be os, ws or is, not '\(dataflow)'")
                }
                peArray.dataflow = flow
            }
            if let sramBytes { peArray.sramBytes = sramBytes }
            if let bandwidth { peArray.bandwidthBytesPerCycle = bandwidth }
            guard Limits.arraySRAMBytes.contains(peArray.sramBytes),
                Limits.bandwidthBytesPerCycle.contains(peArray.bandwidthBytesPerCycle)
            else {
                throw ValidationError(
                    "--sram-bytes must be \(Limits.arraySRAMBytes.lowerBound)…\(Limits.arraySRAMBytes.upperBound) and --bandwidth 1…\(Limits.bandwidthBytesPerCycle.upperBound)"
                )
            }

            let layers: [Layer]
            switch (topology, gemm) {
            case (let path?, nil):
                var values: [String: Int] = [:]
                for item in param {
                    let parts = item.split(separator: "=").map { $0.trimmingSpaces() }
                    guard parts.count == 2, let value = Int(parts[1]) else {
                        throw ValidationError("--param must look like NAME=INTEGER, not '\(item)'")
                    }
                    values[parts[0]] = value
                }
                layers = try SCALESimFiles.topology(path: path, parameters: values)
            case (nil, let text?):
                let dims = text.split(separator: ",").compactMap { Int($0.trimmingSpaces()) }
                guard dims.count == 3, dims.allSatisfy({ $0 > 0 }) else {
                    throw ValidationError("--gemm must be M,N,K with positive integers, not '\(text)'")
                }
                let layer = Layer.gemm(name: "gemm", m: dims[0], n: dims[1], k: dims[2])
                if let problem = layer.problem { throw ValidationError("--gemm \(text): \(problem)") }
                layers = [layer]
            default:
                throw ValidationError("give exactly one of --topology or --gemm")
            }
            if let bytes = clusterBufferBytes,
                !(1...Int(Int32.max)).contains(bytes) || !Limits.bandwidthBytesPerCycle.contains(refillBandwidth)
            {
                throw ValidationError(
                    "--cluster-buffer-bytes must be 1…\(Int32.max) and --refill-bandwidth 1…\(Limits.bandwidthBytesPerCycle.upperBound)"
                )
            }
            let buffer = clusterBufferBytes.map {
                LayerTiming.ClusterBuffer(bytes: $0, refillBytesPerCycle: refillBandwidth)
            }
            if let repetitions {
                guard (1...1_000_000).contains(repetitions) else {
                    throw ValidationError("--repeat must be 1 to 1000000, not \(repetitions)")
                }
                let start = Date()
                var evaluated = 0
                for _ in 0..<repetitions {
                    evaluated += PEAReport(layers: layers, array: peArray, buffer: buffer).rows.count
                }
                let seconds = Date().timeIntervalSince(start)
                print(
                    "\(evaluated) layer evaluations in \(String(format: "%.3f", seconds)) s: \(String(format: "%.0f", Double(evaluated) / max(seconds, 1e-9))) per second"
                )
                return
            }
            let report = PEAReport(layers: layers, array: peArray, buffer: buffer)
            if let csv { try report.csv.write(toFile: csv, atomically: true, encoding: .utf8) }
            if json {
                let data = try JSONSerialization.data(
                    withJSONObject: report.jsonObject, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(report.table)
                if let csv { print("\nwrote \(csv)") }
            }
        } catch let error as ValidationError {
            throw error
        } catch {
            exitReporting(error)
        }
    }
}
