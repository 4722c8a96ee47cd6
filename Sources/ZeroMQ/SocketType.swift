import CZeroMQ

/// The ZeroMQ socket patterns this project uses.
public enum SocketType {
    case router, dealer, push, pull, req, rep, pair, pub, sub

    var rawValue: Int32 {
        switch self {
        case .router: return ZMQ_ROUTER
        case .dealer: return ZMQ_DEALER
        case .push: return ZMQ_PUSH
        case .pull: return ZMQ_PULL
        case .req: return ZMQ_REQ
        case .rep: return ZMQ_REP
        case .pair: return ZMQ_PAIR
        case .pub: return ZMQ_PUB
        case .sub: return ZMQ_SUB
        }
    }
}
