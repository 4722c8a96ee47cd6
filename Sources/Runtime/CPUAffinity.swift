import CProcessControl

/// The CPUs a thread may run on (Linux affinity masks; elsewhere nothing is known and nothing is
/// pinned).
public enum CPUAffinity {
    /// The CPUs the calling thread may run on, in increasing order (empty where unknown).
    public static func allowed() -> [Int] {
        var cpus = [Int32](repeating: 0, count: 4096)
        let count = octopus_allowed_cpus(&cpus, Int32(cpus.count))
        return count > 0 ? cpus[0..<Int(count)].map(Int.init) : []
    }

    /// The CPU the calling thread runs on at this moment (nil where unknown).
    public static func current() -> Int? {
        let cpu = octopus_current_cpu()
        return cpu >= 0 ? Int(cpu) : nil
    }

    /// Restricts the calling thread — and the threads and processes it starts afterwards — to
    /// `cpus`. False when the system refused (a CPU outside the allowed set) or cannot pin.
    @discardableResult
    public static func pinCurrentThread(to cpus: [Int]) -> Bool {
        guard !cpus.isEmpty else { return false }
        let list = cpus.map(Int32.init)
        return octopus_pin_thread(list, Int32(list.count)) == 0
    }

    /// `cpus` as a short list: "0-3,6".
    public static func describe(_ cpus: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        let sorted = cpus.sorted()
        while index < sorted.count {
            var last = index
            while last + 1 < sorted.count, sorted[last + 1] == sorted[last] + 1 { last += 1 }
            parts.append(last == index ? "\(sorted[index])" : "\(sorted[index])-\(sorted[last])")
            index = last + 1
        }
        return parts.joined(separator: ",")
    }
}
