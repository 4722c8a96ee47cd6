import ArgumentParser
import Foundation
import Runtime

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Make a wafer's CurveZMQ keys (for coordinators, clusters and clients on several hosts).",
        discussion: """
            `octopus keys generate DIR` writes coordinator.public/.secret and member.public/.secret into \
            DIR (created with mode 0700; secret files 0600; existing keys are never overwritten). Give \
            the same DIR (copied to every host) as --keys to `octopus coordinator`, `octopus cluster`, \
            `octopus ctl` and `octopus run --hosts`: the coordinator then admits only clients with the \
            member key and encrypts every connection. See README: Running across hosts.
            """,
        subcommands: [Generate.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "generate", abstract: "Write a new key directory.")

        @Argument(help: "The directory to write the keys into.")
        var directory: String

        func run() throws {
            do {
                let keys = try WaferKeys.generate(in: directory)
                print("wrote the wafer's keys to \(keys.directory) (coordinator \(keys.coordinatorPublicKey))")
            } catch {
                exitReporting(error)
            }
        }
    }
}
