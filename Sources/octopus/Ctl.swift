import ArgumentParser
import Foundation
import Runtime
import WaferModel

struct ControlOptions: ParsableArguments {
    @Option(help: "The wafer's control endpoint.")
    var control = "tcp://127.0.0.1:5571"

    @Option(help: "Seconds to wait for the reply (drain waits until the wafer is idle unless given).")
    var timeout: Double?

    @Option(help: "The wafer's CurveZMQ key directory (needed when the wafer uses keys; see `octopus keys`).")
    var keys: String?

    func validate() throws {
        if let timeout { try checkWait(timeout, option: "--timeout", zero: true) }
    }

    /// The loaded `--keys`.
    func waferKeys() throws -> WaferKeys? {
        try keys.map { try WaferKeys.load(from: $0) }
    }

    /// Sends `request`, prints the reply as JSON, and fails when the wafer answered an error.
    func send(_ request: [String: Any], defaultTimeout: Double? = 10) throws {
        let reply = try ControlClient.request(
            endpoint: control, request, timeout: timeout ?? defaultTimeout, keys: try waferKeys())
        let data = try JSONSerialization.data(
            withJSONObject: reply, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
        if reply["ok"] as? Bool != true { throw ExitCode(1) }
    }
}

struct Ctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Talk to a running wafer's control socket.",
        discussion: "Every subcommand sends one JSON request and prints the JSON reply (see README: Control socket).",
        subcommands: [Inject.self, Status.self, Drain.self, Stop.self, TraceNow.self, Send.self])

    struct Inject: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "inject",
            abstract: "Inject requests of a workflow.",
            discussion: """
                --workflow takes a name from the wafer's library or a workflow file: the file is validated \
                here and its graph sent along; the wafer accepts it when it runs the same definition (the \
                library is fixed when the wafer starts: start it with the file in --workflows).
                """)
        @OptionGroup var options: ControlOptions
        @Option(help: "Workflow name (as in the wafer's workflow library) or workflow file.") var workflow: String
        @Option(help: "Number of requests (a replay defaults to every recorded arrival).") var count: Int?
        @Option(help: "Arrival process: periodic, poisson, burst, onoff, markov or replay.") var arrival = "burst"
        @Option(help: "periodic: cycles between arrivals.") var periodCycles: Int?
        @Option(help: "periodic: uniform jitter added to each arrival, in cycles.") var jitterCycles: Int?
        @Option(help: "poisson, onoff: mean cycles between arrivals.") var meanIntervalCycles: Double?
        @Option(help: "onoff: cycles of each on period.") var onCycles: Int?
        @Option(help: "onoff: cycles of each off period.") var offCycles: Int?
        @Option(help: "markov: states as INTERVAL:DWELL pairs (mean cycles), comma-separated, e.g. 2000:1e6,20000:4e6.")
        var states: String?
        @Option(help: "replay: a CSV file of arrival times in cycles (read here, sent inline).") var traceFile: String?
        @Option(help: "Virtual time of the first arrival (default: now).") var startCycle: Int?
        @Option(help: "Seed of this injection's arrival stream.") var seed = 1
        @Option(
            help: "Directory of model tables for a workflow file (default: the topologies folder beside its folder).")
        var topologies: String?

        /// Numbers travel as JSON, which has no infinity or not-a-number: refused here, naming the option.
        func validate() throws {
            if let meanIntervalCycles, !meanIntervalCycles.isFinite {
                throw ValidationError(
                    "--mean-interval-cycles must be a finite number of cycles, not \(meanIntervalCycles)")
            }
            _ = try markovStates()
        }

        /// `--states` as the request's `states` list.
        func markovStates() throws -> [[String: Double]]? {
            try states?.split(separator: ",").map { pair -> [String: Double] in
                let parts = pair.split(separator: ":").compactMap { Double($0) }
                guard parts.count == 2, parts.allSatisfy(\.isFinite) else {
                    throw ValidationError("--states: expected INTERVAL:DWELL pairs of finite numbers, found '\(pair)'")
                }
                return ["mean_interval_cycles": parts[0], "mean_dwell_cycles": parts[1]]
            }
        }

        func run() throws {
            var arrivalFields: [String: Any] = ["process": arrival]
            if let periodCycles { arrivalFields["period_cycles"] = periodCycles }
            if let jitterCycles { arrivalFields["jitter_cycles"] = jitterCycles }
            if let meanIntervalCycles { arrivalFields["mean_interval_cycles"] = meanIntervalCycles }
            if let onCycles { arrivalFields["on_cycles"] = onCycles }
            if let offCycles { arrivalFields["off_cycles"] = offCycles }
            if let states = try markovStates() { arrivalFields["states"] = states }
            do {
                if let traceFile {
                    let node = try ConfigNode.parse("trace", file: "--trace-file")
                    arrivalFields["times_cycles"] = try ArrivalTrace.load(
                        path: traceFile, relativeTo: nil, column: nil, node: node)
                }
                var request: [String: Any] = [
                    "cmd": "inject", "workflow": workflow, "arrival": arrivalFields, "seed": seed,
                ]
                if FileManager.default.fileExists(atPath: workflow) {
                    let beside =
                        (((workflow as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
                        as NSString).appendingPathComponent("topologies")
                    let graph = try WorkflowLoader.load(path: workflow, topologies: topologies ?? beside)
                    request["workflow"] = graph.name
                    request["definition"] = try JSONSerialization.jsonObject(with: JSONEncoder().encode(graph))
                }
                if let count { request["count"] = count } else if arrival != "replay" { request["count"] = 1 }
                if let startCycle { request["start_cycle"] = startCycle }
                try options.send(request)
            } catch let error as ConfigError {
                exitReporting(error)
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Virtual time, requests in flight and completed, per-cluster load.")
        @OptionGroup var options: ControlOptions
        func run() throws { try options.send(["cmd": "status"]) }
    }

    struct Drain: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "drain",
            abstract: "Refuse new injections and wait until every request in flight has finished.")
        @OptionGroup var options: ControlOptions
        func run() throws { try options.send(["cmd": "drain"], defaultTimeout: nil) }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stop",
            abstract: "Write trace and summary, then shut down every process of the wafer.")
        @OptionGroup var options: ControlOptions
        func run() throws { try options.send(["cmd": "stop"], defaultTimeout: 60) }
    }

    struct TraceNow: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "trace", abstract: "Write a complete copy of the trace so far.")
        @OptionGroup var options: ControlOptions
        @Option(
            help:
                "File name to write in the run's output directory, ending in .json (default: trace-snapshot-<cycle>.json); the wafer writes nowhere else."
        ) var name: String?
        func run() throws {
            var request: [String: Any] = ["cmd": "trace"]
            if let name { request["path"] = name }
            try options.send(request)
        }
    }

    struct Send: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "send",
            abstract: "Send a raw JSON request (for scripting and testing).")
        @OptionGroup var options: ControlOptions
        @Argument(help: "The request, e.g. '{\"cmd\": \"status\"}'.") var json: String
        func run() throws {
            let reply = try ControlClientRaw.send(
                endpoint: options.control, text: json, timeout: options.timeout ?? 10, keys: try options.waferKeys())
            print(reply)
        }
    }
}
