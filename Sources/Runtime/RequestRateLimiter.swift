/// A token bucket per client: each may send `burst` requests at once and `perSecond` requests a
/// second in the long run; beyond that its requests are refused (and counted) without being parsed,
/// so one client cannot starve the wafer or the other clients. Pure logic: the caller gives the time.
public struct RequestRateLimiter {
    /// Requests a client may send at once.
    public let burst: Double
    /// Requests per second a client may send in the long run.
    public let perSecond: Double
    /// Clients remembered; the least recently seen are forgotten beyond it (they start full again).
    public let clients: Int

    private var buckets: [[UInt8]: (tokens: Double, seen: Double)] = [:]
    /// Requests refused so far.
    public private(set) var refused = 0

    public init(burst: Double = 500, perSecond: Double = 200, clients: Int = 4096) {
        precondition(burst >= 1 && perSecond > 0 && clients > 0)
        self.burst = burst
        self.perSecond = perSecond
        self.clients = clients
    }

    /// True when the client `key` may send a request at time `now` (seconds on any monotonic clock).
    public mutating func admit(_ key: [UInt8], now: Double) -> Bool {
        var bucket = buckets[key] ?? (tokens: burst, seen: now)
        bucket.tokens = min(burst, bucket.tokens + max(0, now - bucket.seen) * perSecond)
        bucket.seen = now
        let admitted = bucket.tokens >= 1
        if admitted { bucket.tokens -= 1 } else { refused += 1 }
        buckets[key] = bucket
        if buckets.count > clients, let oldest = buckets.min(by: { $0.value.seen < $1.value.seen })?.key {
            buckets[oldest] = nil
        }
        return admitted
    }
}
