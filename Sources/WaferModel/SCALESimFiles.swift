import Foundation

/// Reads SCALE-Sim's input files, so its users can bring their configurations and topologies.
public enum SCALESimFiles {
    /// The `[architecture_presets]` of a SCALE-Sim `.cfg` as a PE array. SRAM sizes (ifmap + filter +
    /// ofmap, in KiB) add up to the TBU SRAM; `Bandwidth` (words per cycle) × `wordBytes` becomes the
    /// link bandwidth.
    public static func config(path: String, wordBytes: Int = 1) throws -> PEArrayConfig {
        let text = try ConfigNode.readText(path: path)
        return try config(text: text, file: path, wordBytes: wordBytes)
    }

    /// Parses `.cfg` text (INI: `[section]`, `key : value` or `key = value`, `#`/`;` comments; keys
    /// are case-insensitive as in Python's configparser).
    public static func config(text: String, file: String, wordBytes: Int = 1) throws -> PEArrayConfig {
        var section = ""
        var values: [String: (value: String, line: Int)] = [:]
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else {
                    throw ConfigError(
                        file: file, line: index + 1, field: "", message: "malformed section header '\(line)'")
                }
                section = String(line.dropFirst().dropLast()).trimmingSpaces().lowercased()
                continue
            }
            guard let separator = line.firstIndex(where: { $0 == ":" || $0 == "=" }) else {
                throw ConfigError(
                    file: file, line: index + 1, field: section, message: "expected 'key : value', found '\(line)'")
            }
            guard section == "architecture_presets" else { continue }
            let key = line[..<separator].trimmingSpaces().lowercased()
            let value = line[line.index(after: separator)...].trimmingSpaces()
            values[key] = (value, index + 1)
        }
        // Each value within `range` (the limits of a wafer file's PE array, ``Limits``), so that
        // nothing computed from them overflows.
        func integer(_ key: String, _ label: String, in range: ClosedRange<Int>) throws -> Int {
            guard let entry = values[key.lowercased()] else {
                throw ConfigError(
                    file: file, line: nil, field: "architecture_presets.\(label)", message: "missing required field")
            }
            // Bandwidth may list several values (one per DRAM channel); the first is the link's.
            let first = entry.value.split(separator: ",").first.map { $0.trimmingSpaces() } ?? ""
            guard let number = Int(first), number > 0 else {
                throw ConfigError(
                    file: file, line: entry.line, field: "architecture_presets.\(label)",
                    message: "expected a positive integer, found '\(entry.value)'")
            }
            guard range.contains(number) else {
                throw ConfigError(
                    file: file, line: entry.line, field: "architecture_presets.\(label)",
                    message: "\(number) is outside \(range.lowerBound)…\(range.upperBound)")
            }
            return number
        }
        let rows = try integer("ArrayHeight", "ArrayHeight", in: Limits.arraySide)
        let columns = try integer("ArrayWidth", "ArrayWidth", in: Limits.arraySide)
        let sramKiBRange = 1...(Limits.arraySRAMBytes.upperBound / 1024 / 3)
        let sramKiB =
            try integer("IfmapSramSzkB", "IfmapSramSzkB", in: sramKiBRange)
            + integer("FilterSramSzkB", "FilterSramSzkB", in: sramKiBRange)
            + integer("OfmapSramSzkB", "OfmapSramSzkB", in: sramKiBRange)
        guard let flow = values["dataflow"] else {
            throw ConfigError(
                file: file, line: nil, field: "architecture_presets.Dataflow", message: "missing required field")
        }
        guard let dataflow = Dataflow(rawValue: flow.value.lowercased()) else {
            throw ConfigError(
                file: file, line: flow.line, field: "architecture_presets.Dataflow",
                message: "'\(flow.value)' is not one of: os, ws, is")
        }
        let bandwidth =
            values["bandwidth"] == nil
            ? 10
            : try integer(
                "Bandwidth", "Bandwidth",
                in: 1...(Limits.bandwidthBytesPerCycle.upperBound / max(wordBytes, 1)))
        return PEArrayConfig(
            rows: rows, columns: columns, dataflow: dataflow, sramBytes: sramKiB * 1024,
            bandwidthBytesPerCycle: bandwidth * wordBytes, wordBytes: wordBytes)
    }

    /// Reads a SCALE-Sim topology CSV (or one of our tables with comments and parameters, see
    /// ``TopologyTable``), with `parameters` overriding the table's defaults.
    public static func topology(path: String, parameters: [String: Int] = [:]) throws -> [Layer] {
        try TopologyTable.load(path: path).layers(parameters)
    }

    /// Parses topology CSV text.
    public static func topology(text: String, file: String, parameters: [String: Int] = [:]) throws -> [Layer] {
        try TopologyTable(text: text, file: file).layers(parameters)
    }
}
