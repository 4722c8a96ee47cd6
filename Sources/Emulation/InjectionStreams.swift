import Scheduling
import WaferModel

/// The injections the coordinator has accepted: each is a stream of requests with precomputed
/// arrival times and a contiguous block of request ids.
struct InjectionStreams {
    struct Stream {
        var injection: Injection
        var workflow: Int
        var arrivals: [Cycle]
        var firstRequest: UInt64
        var next = 0
    }

    private(set) var streams: [Stream] = []
    /// Requests accepted (arrived or still to arrive).
    private(set) var accepted: UInt64 = 0
    private var nextRequestID: UInt64 = 0

    var count: Int { streams.count }

    /// Adds a stream of `arrivals` of `workflow`; returns its index and request ids.
    mutating func add(_ injection: Injection, workflow: Int, arrivals: [Cycle]) -> (
        index: Int, requests: ClosedRange<UInt64>
    ) {
        let first = nextRequestID
        nextRequestID += UInt64(arrivals.count)
        accepted += UInt64(arrivals.count)
        streams.append(Stream(injection: injection, workflow: workflow, arrivals: arrivals, firstRequest: first))
        return (streams.count - 1, first...(nextRequestID - 1))
    }

    /// The next arrival time of stream `index`, if any remains.
    func nextArrival(of index: Int) -> Cycle? {
        let stream = streams[index]
        return stream.next < stream.arrivals.count ? stream.arrivals[stream.next] : nil
    }

    /// Takes the next request of stream `index`: its id and workflow.
    mutating func take(from index: Int) -> (request: UInt64, workflow: Int) {
        let request = streams[index].firstRequest + UInt64(streams[index].next)
        streams[index].next += 1
        return (request, streams[index].workflow)
    }

    /// True while some request has still to arrive.
    var hasPending: Bool { streams.contains { $0.next < $0.arrivals.count } }

    /// Each stream's offered load (for the planning policy): its declared mean rate, or its
    /// request count over its span.
    var offered: [OfferedStream] {
        streams.filter { !$0.arrivals.isEmpty }.map { stream in
            let span = Double((stream.arrivals.last! - stream.arrivals.first!) + 1)
            return OfferedStream(
                workflow: stream.workflow,
                rate: stream.injection.arrival.meanRate ?? Double(stream.arrivals.count) / span)
        }
    }
}
