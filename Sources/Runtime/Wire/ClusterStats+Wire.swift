import Emulation
import Scheduling

// A cluster's statistics at the end of a run travel in binary: in JSON, decoding 256 clusters'
// reports took the coordinator a sixth of a 16×16 run's wall time. Every field is written;
// WireCodecTests fills each one and checks the round trip, so a field added to `ClusterStats`
// without a place here fails the tests. Dictionaries are written in key order (the same bytes
// for the same statistics).

extension TBUStats: WireCodable {
    func write(to w: inout ByteWriter) {
        for value in [tasks, busyCycles, reconfigurationCycles, reconfigurations, starvedCycles, unassignedCycles] {
            w.u64(value)
        }
        w.u64(blockedCycles)
        w.u64s(idleStarts)
        w.optionalCycle(openIdleStart)
    }

    init(from r: inout ByteReader) throws {
        self.init()
        tasks = try r.u64()
        busyCycles = try r.u64()
        reconfigurationCycles = try r.u64()
        reconfigurations = try r.u64()
        starvedCycles = try r.u64()
        unassignedCycles = try r.u64()
        blockedCycles = try r.u64()
        idleStarts = try r.u64s()
        openIdleStart = try r.optionalCycle()
    }
}

extension LinkOccupancy: WireCodable {
    func write(to w: inout ByteWriter) {
        w.u64(transfers)
        w.u64(busyCycles)
        w.u64(queueingCycles)
        w.u64(maxQueueingCycles)
    }

    init(from r: inout ByteReader) throws {
        self.init()
        transfers = try r.u64()
        busyCycles = try r.u64()
        queueingCycles = try r.u64()
        maxQueueingCycles = try r.u64()
    }
}

extension LinkTraffic: WireCodable {
    func write(to w: inout ByteWriter) {
        w.counts(bytes)
        w.counts(transfers)
        w.occupancies(occupancy)
        w.occupancies(ports)
    }

    init(from r: inout ByteReader) throws {
        self.init(
            bytes: try r.counts(), transfers: try r.counts(), occupancy: try r.occupancies(),
            ports: try r.occupancies())
    }
}

extension IdleTimeline: WireCodable {
    func write(to w: inout ByteWriter) {
        w.u64(width)
        w.u64s(starved)
        w.u64s(unassigned)
    }

    init(from r: inout ByteReader) throws {
        self.init(width: try r.u64(), starved: try r.u64s(), unassigned: try r.u64s())
    }
}

extension ClusterStats: WireCodable {
    func write(to w: inout ByteWriter) {
        w.u64(UInt64(bitPattern: Int64(cluster)))
        w.write(tbus)
        for value in [controlBlocks, cbuBusyCycles, rejected] { w.u64(value) }
        w.count(messagesSent.count)
        for (kind, count) in messagesSent.sorted(by: { $0.key < $1.key }) {
            w.byteString(Array(kind.utf8))
            w.u64(count)
        }
        w.u64(byteHops)
        w.write(links)
        for value in [localFlows, events, quantumDelayedMessages, quantumDelayCycles, causalityViolations] {
            w.u64(value)
        }
        w.count(blockRuns.count)
        for (type, count) in blockRuns.sorted(by: { ($0.key.workflow, $0.key.block) < ($1.key.workflow, $1.key.block) })
        {
            w.write(type)
            w.u64(count)
        }
        for value in [
            fanoutItems, earlyExits, controlOnTBUs, splits, proactiveReconfigurations, migrations, migrationByteHops,
            decisions, decisionNanos, fillOverlapBlocks, fillOverlapCycles, heldOutputs,
        ] {
            w.u64(value)
        }
        w.write(optional: idleTimeline)
    }

    init(from r: inout ByteReader) throws {
        let cluster = Int(Int64(bitPattern: try r.u64()))
        let tbus = try r.readArray(TBUStats.self)
        self.init(cluster: cluster, tbus: 0)
        self.tbus = tbus
        controlBlocks = try r.u64()
        cbuBusyCycles = try r.u64()
        rejected = try r.u64()
        for _ in 0..<(try r.count()) {
            let kind = String(decoding: try r.byteString(), as: UTF8.self)
            messagesSent[kind] = try r.u64()
        }
        byteHops = try r.u64()
        links = try r.read()
        localFlows = try r.u64()
        events = try r.u64()
        quantumDelayedMessages = try r.u64()
        quantumDelayCycles = try r.u64()
        causalityViolations = try r.u64()
        for _ in 0..<(try r.count()) {
            let type = try r.read(TaskType.self)
            blockRuns[type] = try r.u64()
        }
        fanoutItems = try r.u64()
        earlyExits = try r.u64()
        controlOnTBUs = try r.u64()
        splits = try r.u64()
        proactiveReconfigurations = try r.u64()
        migrations = try r.u64()
        migrationByteHops = try r.u64()
        decisions = try r.u64()
        decisionNanos = try r.u64()
        fillOverlapBlocks = try r.u64()
        fillOverlapCycles = try r.u64()
        heldOutputs = try r.u64()
        idleTimeline = try r.readOptional(IdleTimeline.self, what: "idle timeline")
    }
}

extension ByteWriter {
    /// 64-bit values: a count, then each.
    mutating func u64s(_ values: [UInt64]) {
        count(values.count)
        for value in values { u64(value) }
    }

    /// Counts by index, in index order.
    fileprivate mutating func counts(_ counts: [Int: UInt64]) {
        count(counts.count)
        for (index, value) in counts.sorted(by: { $0.key < $1.key }) {
            u64(UInt64(bitPattern: Int64(index)))
            u64(value)
        }
    }

    fileprivate mutating func occupancies(_ occupancies: [Int: LinkOccupancy]) {
        count(occupancies.count)
        for (index, value) in occupancies.sorted(by: { $0.key < $1.key }) {
            u64(UInt64(bitPattern: Int64(index)))
            write(value)
        }
    }
}

extension ByteReader {
    /// What ``ByteWriter/u64s(_:)`` wrote.
    mutating func u64s() throws -> [UInt64] {
        let n = try count()
        var values: [UInt64] = []
        values.reserveCapacity(n)
        for _ in 0..<n { values.append(try u64()) }
        return values
    }

    fileprivate mutating func counts() throws -> [Int: UInt64] {
        var counts: [Int: UInt64] = [:]
        for _ in 0..<(try count()) {
            let index = Int(Int64(bitPattern: try u64()))
            counts[index] = try u64()
        }
        return counts
    }

    fileprivate mutating func occupancies() throws -> [Int: LinkOccupancy] {
        var occupancies: [Int: LinkOccupancy] = [:]
        for _ in 0..<(try count()) {
            let index = Int(Int64(bitPattern: try u64()))
            occupancies[index] = try read(LinkOccupancy.self)
        }
        return occupancies
    }
}
