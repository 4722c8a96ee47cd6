import Scheduling
import WaferModel

/// The injections the coordinator has accepted: each is a stream of requests whose arrival times
/// are drawn one at a time (``ArrivalGenerator``), so an accepted injection costs constant memory
/// however many requests it holds, and a contiguous block of request ids.
struct InjectionStreams {
    struct Stream {
        var injection: Injection
        var workflow: Int
        var generator: ArrivalGenerator
        /// The next arrival, drawn ahead (nil once every request has arrived).
        var upcoming: Cycle?
        var firstRequest: UInt64
        var next = 0
        /// The first and last arrival, for the offered rate of processes without a mean rate.
        var first: Cycle
        var last: Cycle
        /// For each of the workflow's request parameters, the column of the injection's values
        /// that gives it (nil: drawn); empty when the injection gives none.
        var columns: [Int?] = []
    }

    private(set) var streams: [Stream] = []
    /// Requests accepted (arrived or still to arrive).
    private(set) var accepted: UInt64 = 0
    private var nextRequestID: UInt64 = 0

    var count: Int { streams.count }

    /// Adds a stream of `injection`'s requests of `workflow` drawn from `rng`; returns its index and
    /// request ids. Every arrival is drawn once here to check it (and to find the last one), then
    /// drawn again as the stream is consumed: the same values, in constant memory.
    mutating func add(_ injection: Injection, workflow: Int, parameters: [RequestParameter] = [], rng: SplitMix64)
        throws -> (
            index: Int, requests: ClosedRange<UInt64>
        )
    {
        var check = try ArrivalGenerator(injection.arrival, count: injection.count, start: injection.start, rng: rng)
        var first: Cycle?
        var last: Cycle = injection.start
        while let time = try check.next() {
            if first == nil { first = time }
            last = time
        }
        var generator = try ArrivalGenerator(
            injection.arrival, count: injection.count, start: injection.start, rng: rng)
        let upcoming = try generator.next()
        let start = nextRequestID
        nextRequestID += UInt64(injection.count)
        accepted += UInt64(injection.count)
        streams.append(
            Stream(
                injection: injection, workflow: workflow, generator: generator, upcoming: upcoming,
                firstRequest: start, first: first ?? injection.start, last: last,
                columns: injection.parameters.map { values in parameters.map { values.names.firstIndex(of: $0.name) } }
                    ?? []))
        return (streams.count - 1, start...(nextRequestID - 1))
    }

    /// The next arrival time of stream `index`, if any remains.
    func nextArrival(of index: Int) -> Cycle? { streams[index].upcoming }

    /// Takes the next request of stream `index`: its id, workflow and parameter values (in the
    /// workflow's order, -1 where drawn; empty when the injection gives none).
    mutating func take(from index: Int) -> (request: UInt64, workflow: Int, parameters: [Int32]) {
        let position = streams[index].next
        let request = streams[index].firstRequest + UInt64(position)
        streams[index].next += 1
        // The draw succeeded once already when the stream was added, so it cannot fail now.
        streams[index].upcoming = try? streams[index].generator.next()
        var parameters: [Int32] = []
        if let values = streams[index].injection.parameters, !streams[index].columns.isEmpty {
            // Request i takes row i of the recording (its arrival is the i-th), repeating beyond it.
            let row = values.rows[position % values.rows.count]
            parameters = streams[index].columns.map { column in column.map { Int32(row[$0]) } ?? -1 }
        }
        return (request, streams[index].workflow, parameters)
    }

    /// True while some request has still to arrive.
    var hasPending: Bool { streams.contains { $0.upcoming != nil } }

    /// Each stream's offered load (for the planning policy): its declared mean rate, or its
    /// request count over its span.
    var offered: [OfferedStream] {
        streams.filter { $0.injection.count > 0 }.map { stream in
            let span = Double((stream.last - stream.first) + 1)
            return OfferedStream(
                workflow: stream.workflow,
                rate: stream.injection.arrival.meanRate ?? Double(stream.injection.count) / span)
        }
    }
}
