import Collections
import Scheduling
import WaferModel

/// The coordinator's one queue of ready blocks (``ReadyBlockRouting/centralQueue(_:)``): blocks
/// wait in arrival order and the policy hands them to clusters as TBUs free up. It counts the
/// busy TBUs of every cluster from what it handed out and what the clusters released.
struct CentralQueue {
    let policy: any CentralQueuePolicy
    /// Blocks the queue holds before it rejects (failed items on their way to a join excepted).
    let capacity: Int
    let tbus: Int
    let mesh: Mesh
    private var queue = Deque<ReadyTask>()
    private var busyTBUs: [Int]
    /// Bytes × hops and local flows of the task flows it routed, and blocks rejected when full.
    private(set) var byteHops: UInt64 = 0
    /// Traffic per mesh link of the blocks it routed.
    private(set) var links = LinkTraffic()
    private(set) var localFlows: UInt64 = 0
    private(set) var rejections: UInt64 = 0

    init(policy: any CentralQueuePolicy, capacity: Int, clusters: Int, tbus: Int, mesh: Mesh) {
        self.policy = policy
        self.capacity = capacity
        self.tbus = tbus
        self.mesh = mesh
        busyTBUs = Array(repeating: 0, count: clusters)
    }

    var count: Int { queue.count }

    /// Queues `ready`; returns false when the queue is full (the caller fails the block).
    mutating func enqueue(_ ready: ReadyTask) -> Bool {
        guard queue.count < capacity || ready.task.failed else {
            rejections += 1
            return false
        }
        queue.append(ready)
        return true
    }

    /// Queues a failed item past a full queue (it must still reach its join).
    mutating func enqueueFailed(_ ready: ReadyTask) { queue.append(ready) }

    /// TBUs a cluster freed.
    mutating func release(cluster: Int, units: Int) { busyTBUs[cluster] -= units }

    /// Hands queued blocks, oldest first, to clusters with a free TBU: returns (block, cluster)
    /// pairs in order. A block the policy cannot place yet waits without holding up the others.
    mutating func dispatch() -> [(ready: ReadyTask, cluster: Int)] {
        var handed: [(ready: ReadyTask, cluster: Int)] = []
        var position = 0
        while position < queue.count, busyTBUs.indices.contains(where: { busyTBUs[$0] < mesh.workingTBUs(of: $0) }) {
            let ready = queue[position]
            let entry = CentralQueueEntry(
                origin: ready.origin < 0 ? nil : Int(ready.origin), pinned: ready.pinned < 0 ? nil : Int(ready.pinned),
                bytes: ready.task.bytes)
            guard let target = policy.cluster(for: entry, busyTBUs: busyTBUs, tbus: tbus, mesh: mesh) else {
                position += 1
                continue
            }
            precondition(
                busyTBUs[target] < mesh.workingTBUs(of: target),
                "\(policy.name) sent a block to cluster \(target), which has no free TBU")
            queue.remove(at: position)
            busyTBUs[target] += 1
            if ready.origin >= 0 {
                if Int(ready.origin) == target {
                    localFlows += 1
                } else {
                    byteHops = byteHops.adding(
                        ready.task.bytes.multiplying(UInt64(mesh.distance(from: Int(ready.origin), to: target))))
                    links.add(ready.task.bytes, from: Int(ready.origin), to: target, mesh: mesh)
                }
            }
            handed.append((ready, target))
        }
        return handed
    }
}
