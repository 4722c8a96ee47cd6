import Foundation

/// What a client tells its user when the peer refused its handshake: the keys are missing or wrong.
enum HandshakeRefusal {
    /// `endpoint` refused this client's handshake; `withKeys` says whether it presented CurveZMQ keys.
    static func description(endpoint: String, withKeys: Bool) -> String {
        withKeys
            ? "\(endpoint) refused the CurveZMQ handshake: the keys in --keys are not this wafer's (or the wafer runs without keys)"
            : "\(endpoint) refused the handshake: the wafer requires its CurveZMQ keys (give --keys DIR, the directory the coordinator uses)"
    }
}
