import WaferModel

/// A participant's sends of one window sorted by destination: the one place that tells peer
/// traffic from traffic to the coordinator, for every host.
public struct RoutedEnvelopes: Sendable {
    /// Envelopes for each cluster that has mail, in ascending cluster order, each list in send order.
    public private(set) var toClusters: [(cluster: Int, envelopes: [Envelope])] = []
    /// Envelopes for the coordinator, in send order.
    public private(set) var toCoordinator: [Envelope] = []

    public init(_ envelopes: [Envelope]) {
        var byCluster: [Int: [Envelope]] = [:]
        for envelope in envelopes {
            if let cluster = envelope.destination.clusterIndex {
                byCluster[cluster, default: []].append(envelope)
            } else {
                toCoordinator.append(envelope)
            }
        }
        toClusters = byCluster.keys.sorted().map { ($0, byCluster[$0]!) }
    }

    /// Count and earliest arrival of the envelopes for each cluster, in cluster order.
    public var peerTraffic: [PeerTraffic] {
        toClusters.map { entry in
            PeerTraffic(
                destination: entry.cluster, count: UInt32(entry.envelopes.count),
                earliestArrival: entry.envelopes.lazy.map(\.arrival).min() ?? .never)
        }
    }
}
