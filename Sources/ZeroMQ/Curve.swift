import CZeroMQ

/// A CurveZMQ key pair, each key as 40 characters of Z85 text.
public struct CurveKeyPair: Equatable, Sendable {
    public let publicKey: String
    public let secretKey: String

    public init(publicKey: String, secretKey: String) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// A new random key pair.
    public static func generate() throws -> CurveKeyPair {
        var publicKey = [CChar](repeating: 0, count: 41)
        var secretKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicKey, &secretKey) == 0 else { throw ZMQError.last("zmq_curve_keypair") }
        return CurveKeyPair(publicKey: String(cString: publicKey), secretKey: String(cString: secretKey))
    }

    /// The public key of `secretKey` (both Z85); nil when `secretKey` is not a valid key.
    public static func publicKey(of secretKey: String) -> String? {
        guard isKey(secretKey) else { return nil }
        var publicKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&publicKey, secretKey) == 0 else { return nil }
        return String(cString: publicKey)
    }

    /// True for 40 characters of the Z85 alphabet (a 32-byte key).
    public static func isKey(_ text: String) -> Bool {
        text.utf8.count == 40 && text.utf8.allSatisfy { z85Alphabet.contains($0) }
    }

    /// The 32-byte key behind a Z85 key, as ZAP reports client keys.
    public static func binary(_ z85: String) -> [UInt8]? {
        guard isKey(z85) else { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        guard zmq_z85_decode(&bytes, z85) != nil else { return nil }
        return bytes
    }

    private static let z85Alphabet = Set(
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)

    /// True when the linked libzmq was built with CURVE support.
    public static var isAvailable: Bool { zmq_has("curve") == 1 }
}

extension Socket {
    /// Makes this socket a CurveZMQ server with `keys` (set before `bind`): every connection is
    /// encrypted, and the context's ZAP handler (``ZAPAuthenticator``) decides which client keys
    /// may connect. libzmq 4.3 admits any client that knows the server's key when no handler is
    /// bound, so bind the handler first and keep it running while the socket is open.
    public func makeCurveServer(_ keys: CurveKeyPair, domain: String) throws {
        try setOption(ZMQ_CURVE_SERVER, 1)
        try setOption(ZMQ_CURVE_SECRETKEY, bytes: Array(keys.secretKey.utf8))
        try setOption(ZMQ_ZAP_DOMAIN, bytes: Array(domain.utf8))
    }

    /// Makes this socket a CurveZMQ client (set before `connect`) that trusts only the server whose
    /// public key is `serverKey` and presents `keys`.
    public func makeCurveClient(serverKey: String, keys: CurveKeyPair) throws {
        try setOption(ZMQ_CURVE_SERVERKEY, bytes: Array(serverKey.utf8))
        try setOption(ZMQ_CURVE_PUBLICKEY, bytes: Array(keys.publicKey.utf8))
        try setOption(ZMQ_CURVE_SECRETKEY, bytes: Array(keys.secretKey.utf8))
    }
}
