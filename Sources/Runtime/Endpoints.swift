import Foundation

/// Checks and derives ZeroMQ endpoints.
///
/// The wafer binds to loopback unless told otherwise: a socket on another address must be
/// authenticated (CurveZMQ, `--keys DIR`), so without keys it is refused with a clear message
/// rather than opened to anyone who can reach it.
public enum Endpoints {
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Validates an endpoint given on the command line (`what` names the option); a non-loopback
    /// address is accepted only when the socket is `authenticated`.
    public static func check(_ endpoint: String, what: String, authenticated: Bool = false) throws {
        if endpoint.hasPrefix("ipc://") {
            guard endpoint.count > 6 else { throw Invalid(description: "\(what): '\(endpoint)' has no path") }
            return
        }
        guard endpoint.hasPrefix("tcp://") else {
            throw Invalid(description: "\(what): '\(endpoint)' must start with tcp:// or ipc://")
        }
        let rest = endpoint.dropFirst(6)
        guard let colon = rest.lastIndex(of: ":") else {
            throw Invalid(description: "\(what): '\(endpoint)' needs a port (tcp://HOST:PORT, or :* for any free port)")
        }
        let host = String(rest[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let port = rest[rest.index(after: colon)...]
        guard port == "*" || (Int(port).map { (0...65535).contains($0) } ?? false) else {
            throw Invalid(description: "\(what): '\(port)' is not a port number")
        }
        guard isLoopback(host) || authenticated else {
            throw Invalid(
                description:
                    "\(what): '\(host)' is not a loopback address; sockets reachable from other hosts must be authenticated: give --keys DIR (CurveZMQ keys from `octopus keys generate DIR`), or use 127.0.0.1 or ipc://"
            )
        }
    }

    /// True for `localhost`, `127.0.0.0/8` and `::1`.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
