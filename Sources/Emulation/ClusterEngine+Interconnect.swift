import WaferModel

/// How a cluster's task flows and migrations cross the mesh: as one delayed message (delay link
/// model), or router by router through contended links and ports (contention link model, see
/// ``RouterPorts``).
extension ClusterEngine {
    /// Sends `task` from this cluster to cluster `destination` (another cluster) over the mesh.
    func sendOverMesh(_ task: TaskMessage, to destination: Int, at now: Cycle) {
        precondition(destination != id, "a transfer from cluster \(id) to itself")
        guard config.interconnect.model == .contention else {
            send(
                .task(task), to: .cluster(destination), at: now,
                latency: mesh.transferLatency(from: id, to: destination, bytes: task.bytes))
            return
        }
        carry(Transit(task: task, destination: Int32(destination), tail: now, entering: true), at: now)
    }

    /// A transfer whose first byte is at this router now: through the injection port if it starts
    /// here, then onto the next link of its route, or out through the ejection port when this is
    /// its destination (the block arrives when its last byte is through).
    func carry(_ transit: Transit, at now: Cycle) {
        let destination = Int(transit.destination)
        let bytes = transit.task.bytes
        let portBandwidth = config.interconnect.portBandwidthBytesPerCycle
        var head = now
        var tail = max(transit.tail, now)
        if transit.entering {
            precondition(destination != id, "a transfer from cluster \(id) to itself")
            (head, tail) = reserve(.injection, head: head, tail: tail, bytes: bytes, bandwidth: portBandwidth)
        }
        if destination == id {
            let (_, end) = reserve(.ejection, head: head, tail: tail, bytes: bytes, bandwidth: portBandwidth)
            pendingArrivals += 1
            core.schedule(.arrival(transit.task), at: end)
            return
        }
        let link = mesh.firstLink(from: id, to: destination)
        let parameters = mesh.parameters(ofLink: link)
        let resource = RouterPorts.Resource(rawValue: link % 4)!
        let (start, end) = reserve(
            resource, head: head, tail: tail, bytes: bytes, bandwidth: parameters.bandwidthBytesPerCycle, link: link)
        var next = transit
        next.entering = false
        next.tail = end + parameters.hopLatency
        send(.transit(next), to: .cluster(mesh.link(link).to), at: now, latency: start + parameters.hopLatency - now)
    }

    /// Reserves one of this router's resources and accounts for it (summary and trace).
    private func reserve(
        _ resource: RouterPorts.Resource, head: Cycle, tail: Cycle, bytes: UInt64, bandwidth: Int, link: Int? = nil
    ) -> (start: Cycle, end: Cycle) {
        let (start, end) = ports.reserve(resource.rawValue, head: head, tail: tail, bytes: bytes, bandwidth: bandwidth)
        if let link {
            stats.links.occupy(link: link, start: start, end: end, head: head)
        } else {
            stats.links.occupy(port: id, ejection: resource == .ejection, start: start, end: end, head: head)
        }
        if end > start {
            core.record(
                .linkBusy(
                    cluster: Int32(id), resource: UInt8(resource.rawValue), start: start, duration: end - start,
                    waited: start - head, bytes: bytes))
        }
        return (start, end)
    }
}
