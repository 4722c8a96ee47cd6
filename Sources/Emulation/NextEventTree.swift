import WaferModel

/// Which participant's next event comes first — the earliest time, then the lowest participant
/// — among a fixed set whose next times change one at a time: a tournament tree, each inner
/// node holding the winner of its two children. Changing one time costs log₂ n comparisons and
/// the winner is read at the root; the one-process engine asks after every step.
struct NextEventTree {
    private var times: [Cycle]
    /// `winners[1]` is the root; leaf `i` is at `leaves + i`; -1 marks padding.
    private var winners: [Int]
    private let leaves: Int

    /// `count` participants, none with anything pending.
    init(count: Int) {
        var leaves = 1
        while leaves < count { leaves *= 2 }
        self.leaves = leaves
        times = Array(repeating: .never, count: count)
        winners = Array(repeating: -1, count: 2 * leaves)
        for participant in 0..<count { winners[leaves + participant] = participant }
        for node in stride(from: leaves - 1, through: 1, by: -1) {
            winners[node] = better(winners[2 * node], winners[2 * node + 1])
        }
    }

    /// The earlier of two participants; on equal times the left one, whose index is lower.
    private func better(_ a: Int, _ b: Int) -> Int {
        if a < 0 { return b }
        if b < 0 { return a }
        return times[b] < times[a] ? b : a
    }

    /// Sets `participant`'s next time.
    mutating func update(_ participant: Int, to time: Cycle) {
        times[participant] = time
        var node = (leaves + participant) / 2
        while node >= 1 {
            winners[node] = better(winners[2 * node], winners[2 * node + 1])
            node /= 2
        }
    }

    /// The participant whose next event comes first, and its time (``Cycle/never``: none).
    var first: (participant: Int, time: Cycle) {
        let winner = winners[1]
        return (winner, winner < 0 ? .never : times[winner])
    }
}
