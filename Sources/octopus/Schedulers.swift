import ArgumentParser
import Scheduling

struct Schedulers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedulers",
        abstract: "List the schedulers --scheduler accepts, with their parameters and their role in `octopus compare`.",
        discussion:
            "Each scheduler is a composition of policies registered in Sources/Scheduling/Schedulers/; see docs/scheduling.md."
    )

    func run() {
        let registry = SchedulerRegistry.standard
        for definition in registry.definitions {
            var roles: [String] = []
            if definition.comparison.baseline {
                roles.append(definition.comparison.sweep.isEmpty ? "baseline" : "swept baseline")
            }
            if let step = definition.comparison.ablationStep { roles.append("ablation step \(step)") }
            if let ideal = definition.comparison.ideal { roles.append("ideal reference: \(ideal)") }
            print(definition.name + (roles.isEmpty ? "" : "  (" + roles.joined(separator: ", ") + ")"))
            print("    " + definition.summary)
            for parameter in definition.parameters {
                print("    :\(parameter.name)=N  \(parameter.help) (default \(parameter.text(parameter.defaultValue)))")
            }
        }
    }
}
