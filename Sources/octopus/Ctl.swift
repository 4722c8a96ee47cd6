import ArgumentParser
import Foundation
import Runtime

struct ControlOptions: ParsableArguments {
    @Option(help: "The wafer's control endpoint.")
    var control = "tcp://127.0.0.1:5571"

    @Option(help: "Seconds to wait for the reply (drain waits until the wafer is idle unless given).")
    var timeout: Double?

    /// Sends `request`, prints the reply as JSON, and fails when the wafer answered an error.
    func send(_ request: [String: Any], defaultTimeout: Double? = 10) throws {
        let reply = try ControlClient.request(endpoint: control, request, timeout: timeout ?? defaultTimeout)
        let data = try JSONSerialization.data(withJSONObject: reply, options: [.prettyPrinted, .sortedKeys])
        print(String(decoding: data, as: UTF8.self))
        if reply["ok"] as? Bool != true { throw ExitCode(1) }
    }
}

struct Ctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Talk to a running wafer's control socket.",
        discussion: "Every subcommand sends one JSON request and prints the JSON reply (see README: Control socket).",
        subcommands: [Inject.self, Status.self, Drain.self, Stop.self, TraceNow.self, Send.self])

    struct Inject: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Inject requests of a workflow.")
        @OptionGroup var options: ControlOptions
        @Option(help: "Workflow name (as in the wafer's workflow library).") var workflow: String
        @Option(help: "Number of requests.") var count = 1
        @Option(help: "Arrival process: periodic, poisson or burst.") var arrival = "burst"
        @Option(help: "periodic: cycles between arrivals.") var periodCycles: Int?
        @Option(help: "periodic: uniform jitter added to each arrival, in cycles.") var jitterCycles: Int?
        @Option(help: "poisson: mean cycles between arrivals.") var meanIntervalCycles: Double?
        @Option(help: "Virtual time of the first arrival (default: now).") var startCycle: Int?
        @Option(help: "Seed of this injection's arrival stream.") var seed = 1

        func run() throws {
            var arrivalFields: [String: Any] = ["process": arrival]
            if let periodCycles { arrivalFields["period_cycles"] = periodCycles }
            if let jitterCycles { arrivalFields["jitter_cycles"] = jitterCycles }
            if let meanIntervalCycles { arrivalFields["mean_interval_cycles"] = meanIntervalCycles }
            var request: [String: Any] = ["cmd": "inject", "workflow": workflow, "count": count, "arrival": arrivalFields, "seed": seed]
            if let startCycle { request["start_cycle"] = startCycle }
            try options.send(request)
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Virtual time, requests in flight and completed, per-cluster load.")
        @OptionGroup var options: ControlOptions
        func run() throws { try options.send(["cmd": "status"]) }
    }

    struct Drain: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Refuse new injections and wait until every request in flight has finished.")
        @OptionGroup var options: ControlOptions
        func run() throws { try options.send(["cmd": "drain"], defaultTimeout: nil) }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write trace and summary, then shut down every process of the wafer.")
        @OptionGroup var options: ControlOptions
        func run() throws { try options.send(["cmd": "stop"], defaultTimeout: 60) }
    }

    struct TraceNow: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "trace", abstract: "Write a complete copy of the trace so far.")
        @OptionGroup var options: ControlOptions
        @Option(help: "File to write (default: trace-snapshot-<cycle>.json in the run's output directory).") var path: String?
        func run() throws {
            var request: [String: Any] = ["cmd": "trace"]
            if let path { request["path"] = path }
            try options.send(request)
        }
    }

    struct Send: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a raw JSON request (for scripting and testing).")
        @OptionGroup var options: ControlOptions
        @Argument(help: "The request, e.g. '{\"cmd\": \"status\"}'.") var json: String
        func run() throws {
            let reply = try ControlClientRaw.send(endpoint: options.control, text: json, timeout: options.timeout ?? 10)
            print(reply)
        }
    }
}
