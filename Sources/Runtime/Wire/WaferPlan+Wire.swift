import Scheduling

extension WaferPlan: WireCodable {
    func write(to w: inout ByteWriter) {
        w.u32(epoch)
        w.count(reserved.count)
        for (cluster, tbus) in reserved.enumerated() {
            w.count(tbus.count)
            for (tbu, types) in tbus.enumerated() {
                w.count(types.count)
                for (i, type) in types.enumerated() {
                    w.write(type)
                    w.u64(weights[cluster][tbu][i].bitPattern)
                }
                w.write(optional: configure[cluster][tbu])
            }
        }
    }

    init(from r: inout ByteReader) throws {
        // Every cluster decodes every plan the coordinator publishes (a 16×16 wafer: 1,024 TBUs
        // each), so the arrays are sized from the counts up front instead of growing.
        let epoch = try r.u32()
        let clusters = try r.count()
        var reserved: [[[TaskType]]] = []
        var weights: [[[Double]]] = []
        var configure: [[TaskType?]] = []
        reserved.reserveCapacity(clusters)
        weights.reserveCapacity(clusters)
        configure.reserveCapacity(clusters)
        for _ in 0..<clusters {
            let tbus = try r.count()
            var clusterReserved: [[TaskType]] = []
            var clusterWeights: [[Double]] = []
            var clusterConfigure: [TaskType?] = []
            clusterReserved.reserveCapacity(tbus)
            clusterWeights.reserveCapacity(tbus)
            clusterConfigure.reserveCapacity(tbus)
            for _ in 0..<tbus {
                let count = try r.count()
                var types: [TaskType] = []
                var shares: [Double] = []
                if count > 0 {
                    types.reserveCapacity(count)
                    shares.reserveCapacity(count)
                }
                for _ in 0..<count {
                    types.append(try r.read())
                    shares.append(Double(bitPattern: try r.u64()))
                }
                clusterReserved.append(types)
                clusterWeights.append(shares)
                clusterConfigure.append(try r.readOptional(TaskType.self, what: "a plan's configuration wish"))
            }
            reserved.append(clusterReserved)
            weights.append(clusterWeights)
            configure.append(clusterConfigure)
        }
        self.init(epoch: epoch, reserved: reserved, weights: weights, configure: configure)
    }
}
