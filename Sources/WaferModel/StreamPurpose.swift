/// The purposes random streams are drawn for: the keys that tell the streams apart. Each decision
/// about a request draws from its own stream, keyed by the run seed, the request, the block, the
/// purpose, and the request's loop iterations and fan-out items — so the draw is the same wherever
/// and whenever it is made.
public enum StreamPurpose: UInt64, Sendable {
    /// Per-request shape parameters of a task block's operations ("SHAP").
    case shape = 0x5348_4150
    /// The item count of a for-each fan-out ("FCNT").
    case fanoutCount = 0x4643_4E54
    /// A branch or early-exit decision ("BRNC").
    case branch = 0x4252_4E43
    /// The trip count of a loop ("TRIP").
    case loopTrips = 0x5452_4950
    /// Whether a probabilistic loop continues ("CONT").
    case loopContinue = 0x434F_4E54
    /// The key of a load-oblivious replica choice ("PLAC").
    case placement = 0x504C_4143
    /// The key of an entry block's placement, drawn by the coordinator ("ENTR").
    case entryPlacement = 0x454E_5452
    /// The deterministic sample runs of the analytic expectation ("ANLY").
    case analysis = 0x414E_4C59
    /// A functional block's weights ("TEMP").
    case weights = 0x5445_4D50
    /// A functional request's scene ("SCEN").
    case scene = 0x5343_454E
    /// A functional request's input tensor ("INPT").
    case input = 0x494E_5054
    /// A request parameter the request did not bring, drawn once per request ("RQPM").
    case requestParameter = 0x5251_504D
}
