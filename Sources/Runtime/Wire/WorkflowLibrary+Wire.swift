import WaferModel

// The workflow library in the binary wire form, for the setup every cluster process decodes at
// start. As JSON it took about 5 ms per process (100 KB through the keyed containers of Codable):
// on a 16×16 wafer 256 processes doing that on 2 cores were the longest part of the start.
// Every enumeration is a one-byte case tag; topology tables travel as their rows' cells and are
// parsed again (``TopologyTable/init(file:parameters:rows:)``), which also checks them.

extension ByteWriter {
    mutating func string(_ v: String) { byteString(Array(v.utf8)) }
    mutating func int(_ v: Int) { u64(UInt64(bitPattern: Int64(v))) }
    mutating func double(_ v: Double) { u64(v.bitPattern) }
    mutating func bool(_ v: Bool) { u8(v ? 1 : 0) }
    mutating func ints(_ values: [Int]) {
        count(values.count)
        for value in values { int(value) }
    }
    mutating func doubles(_ values: [Double]) {
        count(values.count)
        for value in values { double(value) }
    }
    /// A count, then the pairs in key order (the bytes do not depend on the dictionary's order).
    mutating func dictionary<Value>(_ values: [String: Value], _ writeValue: (inout ByteWriter, Value) -> Void) {
        count(values.count)
        for key in values.keys.sorted() {
            string(key)
            writeValue(&self, values[key]!)
        }
    }
    mutating func optionalString(_ v: String?) {
        u8(v == nil ? 0 : 1)
        if let v { string(v) }
    }
    mutating func optionalCycle(_ v: Cycle?) {
        u8(v == nil ? 0 : 1)
        if let v { u64(v) }
    }
}

extension ByteReader {
    mutating func string() throws -> String { String(decoding: try byteString(), as: UTF8.self) }
    mutating func int() throws -> Int { Int(Int64(bitPattern: try u64())) }
    mutating func double() throws -> Double { Double(bitPattern: try u64()) }
    mutating func bool() throws -> Bool {
        switch try u8() {
        case 0: return false
        case 1: return true
        case let flag: throw WireError(description: "bad boolean \(flag)")
        }
    }
    mutating func ints() throws -> [Int] { try (0..<count()).map { _ in try int() } }
    mutating func doubles() throws -> [Double] { try (0..<count()).map { _ in try double() } }
    mutating func dictionary<Value>(_ readValue: (inout ByteReader) throws -> Value) throws -> [String: Value] {
        let n = try count()
        var values: [String: Value] = [:]
        values.reserveCapacity(n)
        for _ in 0..<n {
            let key = try string()
            guard values.updateValue(try readValue(&self), forKey: key) == nil else {
                throw WireError(description: "key '\(key)' twice in a dictionary")
            }
        }
        return values
    }
    mutating func optionalString() throws -> String? { try presence("a text") ? try string() : nil }
    mutating func optionalCycle() throws -> Cycle? { try presence("a cycle count") ? try u64() : nil }

    private mutating func presence(_ what: String) throws -> Bool {
        switch try u8() {
        case 0: return false
        case 1: return true
        case let flag: throw WireError(description: "bad presence flag \(flag) of \(what)")
        }
    }

    /// A case tag; `what` names the type for the error.
    mutating func tag(_ what: String, below count: UInt8) throws -> UInt8 {
        let tag = try u8()
        guard tag < count else { throw WireError(description: "unknown \(what) case \(tag)") }
        return tag
    }
}

/// Enumerations without payloads, by their position in `allCases`.
extension ByteWriter {
    mutating func caseIndex<T: CaseIterable & Equatable>(_ value: T) {
        u8(UInt8(T.allCases.firstIndex(of: value).map { T.allCases.distance(from: T.allCases.startIndex, to: $0) }!))
    }
}

extension ByteReader {
    mutating func caseIndex<T: CaseIterable>(_: T.Type, what: String) throws -> T {
        let index = Int(try u8())
        guard index < T.allCases.count else { throw WireError(description: "unknown \(what) \(index)") }
        return T.allCases[T.allCases.index(T.allCases.startIndex, offsetBy: index)]
    }
}

extension WorkflowLibrary: WireCodable {
    func write(to w: inout ByteWriter) { w.write(workflows) }

    init(from r: inout ByteReader) throws { self.init(try r.readArray(WorkflowGraph.self)) }
}

extension WorkflowGraph: WireCodable {
    func write(to w: inout ByteWriter) {
        w.string(name)
        w.string(description)
        w.write(blocks)
        w.int(entry)
        w.u64(inputBytes)
        w.write(optional: input)
        w.write(optional: generator)
        w.write(phases)
        w.optionalCycle(deadlineCycles)
        w.optionalString(group)
        w.write(requestParameters)
        w.count(requestTrips.count)
        for block in requestTrips.keys.sorted() {
            w.int(block)
            w.string(requestTrips[block]!)
        }
    }

    init(from r: inout ByteReader) throws {
        self.init(
            name: try r.string(), description: try r.string(), blocks: try r.readArray(), entry: try r.int(),
            inputBytes: try r.u64(), input: try r.readOptional(what: "a workflow's input"),
            generator: try r.readOptional(what: "a workflow's input generator"), phases: try r.read(),
            deadlineCycles: try r.optionalCycle())
        group = try r.optionalString()
        requestParameters = try r.readArray()
        for _ in 0..<(try r.count()) {
            let block = try r.int()
            guard requestTrips.updateValue(try r.string(), forKey: block) == nil else {
                throw WireError(description: "block \(block) twice among a workflow's request trips")
            }
        }
    }
}

extension WorkflowBlock: WireCodable {
    func write(to w: inout ByteWriter) {
        w.string(name)
        switch kind {
        case .task(let task):
            w.u8(0)
            w.write(task)
        case .control(let control):
            w.u8(1)
            w.write(control)
        }
    }

    init(from r: inout ByteReader) throws {
        let name = try r.string()
        switch try r.tag("block kind", below: 2) {
        case 0: self.init(name: name, kind: .task(try r.read()))
        default: self.init(name: name, kind: .control(try r.read()))
        }
    }
}

extension Successor: WireCodable {
    func write(to w: inout ByteWriter) {
        switch self {
        case .block(let index):
            w.u8(0)
            w.int(index)
        case .end: w.u8(1)
        }
    }

    init(from r: inout ByteReader) throws {
        switch try r.tag("successor", below: 2) {
        case 0: self = .block(try r.int())
        default: self = .end
        }
    }
}

extension TaskBlock: WireCodable {
    func write(to w: inout ByteWriter) {
        w.write(operations)
        w.u64(outputBytes)
        w.write(next)
        w.write(optional: input)
        w.write(optional: output)
        w.write(optional: function)
    }

    init(from r: inout ByteReader) throws {
        self.init(
            operations: try r.readArray(), outputBytes: try r.u64(), next: try r.read(),
            input: try r.readOptional(what: "a task block's input"),
            output: try r.readOptional(what: "a task block's output"),
            function: try r.readOptional(what: "a task block's function"))
    }
}

extension TaskOperation: WireCodable {
    func write(to w: inout ByteWriter) {
        switch self {
        case .layer(let layer):
            w.u8(0)
            w.write(layer)
        case .vector(let name, let operation):
            w.u8(1)
            w.string(name)
            w.write(operation)
        case .fixed(let name, let cycles):
            w.u8(2)
            w.string(name)
            w.u64(cycles)
        case .model(let model):
            w.u8(3)
            w.write(model)
        }
    }

    init(from r: inout ByteReader) throws {
        switch try r.tag("operation", below: 4) {
        case 0: self = .layer(try r.read())
        case 1: self = .vector(name: try r.string(), try r.read())
        case 2: self = .fixed(name: try r.string(), cycles: try r.u64())
        default: self = .model(try r.read())
        }
    }
}

extension Layer: WireCodable {
    func write(to w: inout ByteWriter) {
        switch self {
        case .gemm(let name, let m, let n, let k):
            w.u8(0)
            w.string(name)
            for value in [m, n, k] { w.int(value) }
        case .conv(let name, let h, let width, let fh, let fw, let channels, let filters, let stride, let depthwise):
            w.u8(1)
            w.string(name)
            for value in [h, width, fh, fw, channels, filters, stride] { w.int(value) }
            w.bool(depthwise)
        }
    }

    init(from r: inout ByteReader) throws {
        switch try r.tag("layer", below: 2) {
        case 0: self = .gemm(name: try r.string(), m: try r.int(), n: try r.int(), k: try r.int())
        default:
            self = .conv(
                name: try r.string(), ifmapHeight: try r.int(), ifmapWidth: try r.int(), filterHeight: try r.int(),
                filterWidth: try r.int(), channels: try r.int(), filters: try r.int(), stride: try r.int(),
                depthwise: try r.bool())
        }
    }
}

extension VectorOperation: WireCodable {
    func write(to w: inout ByteWriter) {
        let (tag, values): (UInt8, [Int])
        switch self {
        case .elementwise(let n): (tag, values) = (0, [n])
        case .softmax(let rows, let columns): (tag, values) = (1, [rows, columns])
        case .layerNorm(let rows, let columns): (tag, values) = (2, [rows, columns])
        case .batchNorm(let n): (tag, values) = (3, [n])
        case .pool(let outputs, let window): (tag, values) = (4, [outputs, window])
        case .nms(let n): (tag, values) = (5, [n])
        case .topK(let n, let k): (tag, values) = (6, [n, k])
        case .sort(let n): (tag, values) = (7, [n])
        case .gather(let lookups, let dimension): (tag, values) = (8, [lookups, dimension])
        }
        w.u8(tag)
        for value in values { w.int(value) }
    }

    init(from r: inout ByteReader) throws {
        switch try r.tag("vector operation", below: 9) {
        case 0: self = .elementwise(elements: try r.int())
        case 1: self = .softmax(rows: try r.int(), columns: try r.int())
        case 2: self = .layerNorm(rows: try r.int(), columns: try r.int())
        case 3: self = .batchNorm(elements: try r.int())
        case 4: self = .pool(outputs: try r.int(), window: try r.int())
        case 5: self = .nms(candidates: try r.int())
        case 6: self = .topK(elements: try r.int(), k: try r.int())
        case 7: self = .sort(elements: try r.int())
        default: self = .gather(lookups: try r.int(), dimension: try r.int())
        }
    }
}

extension DynamicModel: WireCodable {
    func write(to w: inout ByteWriter) {
        w.string(name)
        w.write(table)
        w.dictionary(fixed) { $0.int($1) }
        w.dictionary(drawn) { $0.write($1) }
        w.dictionary(fromRequest) { $0.write($1) }
    }

    init(from r: inout ByteReader) throws {
        self.init(
            name: try r.string(), table: try r.read(), fixed: try r.dictionary { try $0.int() },
            drawn: try r.dictionary { try $0.read() }, fromRequest: try r.dictionary { try $0.read() })
    }
}

extension TopologyTable: WireCodable {
    func write(to w: inout ByteWriter) {
        w.string(file)
        w.dictionary(parameters) { $0.int($1) }
        let rows = rowCells
        w.count(rows.count)
        for row in rows {
            w.int(row.line)
            w.string(row.name)
            w.count(row.cells.count)
            for cell in row.cells { w.string(cell) }
        }
    }

    init(from r: inout ByteReader) throws {
        let file = try r.string()
        let parameters = try r.dictionary { try $0.int() }
        let rows = try (0..<r.count()).map { _ in
            (line: try r.int(), name: try r.string(), cells: try (0..<r.count()).map { _ in try r.string() })
        }
        do {
            try self.init(file: file, parameters: parameters, rows: rows)
        } catch let error as TopologyTable.Malformed {
            throw WireError(description: "topology table \(file): \(error)")
        }
    }
}

extension RequestUse: WireCodable {
    func write(to w: inout ByteWriter) {
        w.string(parameter)
        w.optionalString(plusIterationOf)
    }

    init(from r: inout ByteReader) throws {
        self.init(parameter: try r.string(), plusIterationOf: try r.optionalString())
    }
}

extension ParameterDistribution: WireCodable {
    func write(to w: inout ByteWriter) {
        switch self {
        case .uniform(let low, let high):
            w.u8(0)
            w.int(low)
            w.int(high)
        case .choice(let values):
            w.u8(1)
            w.ints(values)
        case .poisson(let mean, let max):
            w.u8(2)
            w.double(mean)
            w.int(max)
        case .geometric(let mean, let max):
            w.u8(3)
            w.double(mean)
            w.int(max)
        }
    }

    init(from r: inout ByteReader) throws {
        switch try r.tag("distribution", below: 4) {
        case 0: self = .uniform(low: try r.int(), high: try r.int())
        case 1:
            let values = try r.ints()
            // Sampling and the range read the choices: never an empty list.
            guard !values.isEmpty else { throw WireError(description: "a choice of no values") }
            self = .choice(values)
        case 2: self = .poisson(mean: try r.double(), max: try r.int())
        default: self = .geometric(mean: try r.double(), max: try r.int())
        }
    }
}

extension RequestParameter: WireCodable {
    func write(to w: inout ByteWriter) {
        w.string(name)
        w.write(values)
    }

    init(from r: inout ByteReader) throws { self.init(name: try r.string(), values: try r.read()) }
}

extension Phased: WireCodable where Value: WireCodable {
    func write(to w: inout ByteWriter) { w.write(values) }

    init(from r: inout ByteReader) throws {
        let values = try r.readArray(Value.self)
        // A phased value is read by phase index: never an empty list.
        guard !values.isEmpty else { throw WireError(description: "a phased value with no values") }
        self.init(perPhase: values)
    }
}

extension Double: WireCodable {
    func write(to w: inout ByteWriter) { w.double(self) }

    init(from r: inout ByteReader) throws { self = try r.double() }
}

extension PhaseSchedule: WireCodable {
    func write(to w: inout ByteWriter) {
        w.count(phases.count)
        for phase in phases {
            w.string(phase.name)
            w.optionalCycle(phase.durationCycles)
        }
        w.bool(repeats)
    }

    init(from r: inout ByteReader) throws {
        let phases = try (0..<r.count()).map { _ in Phase(name: try r.string(), durationCycles: try r.optionalCycle()) }
        guard !phases.isEmpty else { throw WireError(description: "a phase schedule with no phases") }
        self.init(phases: phases, repeats: try r.bool())
    }
}

extension ControlBlock: WireCodable {
    func write(to w: inout ByteWriter) {
        switch self {
        case .branch(let decision, let then, let otherwise):
            w.u8(0)
            w.write(decision)
            w.write(then)
            w.write(otherwise)
        case .loop(let body, let exit, let bound, let until, let max):
            w.u8(1)
            w.int(body)
            w.write(exit)
            w.write(bound)
            w.write(optional: until)
            w.int(max)
        case .forEach(let body, let join, let count, let countFrom):
            w.u8(2)
            w.int(body)
            w.int(join)
            w.write(count)
            w.write(optional: countFrom)
        case .parallel(let branches, let join):
            w.u8(3)
            w.ints(branches)
            w.int(join)
        case .join(let mode, let next):
            w.u8(4)
            w.caseIndex(mode)
            w.write(next)
        case .exit(let decision, let otherwise):
            w.u8(5)
            w.write(decision)
            w.write(otherwise)
        }
    }

    init(from r: inout ByteReader) throws {
        switch try r.tag("control block", below: 6) {
        case 0: self = .branch(try r.read(), then: try r.read(), otherwise: try r.read())
        case 1:
            self = .loop(
                body: try r.int(), exit: try r.read(), bound: try r.read(),
                until: try r.readOptional(what: "a loop's stopping predicate"), max: try r.int())
        case 2:
            self = .forEach(
                body: try r.int(), join: try r.int(), count: try r.read(),
                countFrom: try r.readOptional(what: "a for-each's count"))
        case 3: self = .parallel(branches: try r.ints(), join: try r.int())
        case 4: self = .join(try r.caseIndex(JoinMode.self, what: "join mode"), next: try r.read())
        default: self = .exit(try r.read(), otherwise: try r.read())
        }
    }
}

extension Decision: WireCodable {
    func write(to w: inout ByteWriter) {
        w.write(probability)
        w.write(optional: predicate)
    }

    init(from r: inout ByteReader) throws {
        self.init(probability: try r.read(), predicate: try r.readOptional(what: "a decision's predicate"))
    }
}

extension LoopBound: WireCodable {
    func write(to w: inout ByteWriter) {
        switch self {
        case .trips(let trips):
            w.u8(0)
            w.write(trips)
        case .continueProbability(let probability):
            w.u8(1)
            w.write(probability)
        }
    }

    init(from r: inout ByteReader) throws {
        switch try r.tag("loop bound", below: 2) {
        case 0: self = .trips(try r.read())
        default: self = .continueProbability(try r.read())
        }
    }
}

extension TensorPredicate: WireCodable {
    func write(to w: inout ByteWriter) {
        switch self {
        case .argmaxIn(let classes):
            w.u8(0)
            w.ints(classes)
        case .maxAbove(let threshold):
            w.u8(1)
            w.double(threshold)
        case .maxBelow(let threshold):
            w.u8(2)
            w.double(threshold)
        case .anyRowAbove(let column, let threshold):
            w.u8(3)
            w.int(column)
            w.double(threshold)
        case .anyRowBelow(let column, let threshold):
            w.u8(4)
            w.int(column)
            w.double(threshold)
        }
    }

    init(from r: inout ByteReader) throws {
        switch try r.tag("predicate", below: 5) {
        case 0: self = .argmaxIn(try r.ints())
        case 1: self = .maxAbove(try r.double())
        case 2: self = .maxBelow(try r.double())
        case 3: self = .anyRowAbove(column: try r.int(), threshold: try r.double())
        default: self = .anyRowBelow(column: try r.int(), threshold: try r.double())
        }
    }
}

extension TensorCount: WireCodable {
    func write(to w: inout ByteWriter) {
        switch self {
        case .rows: w.u8(0)
        case .rowsWhere(let column, let above):
            w.u8(1)
            w.int(column)
            w.double(above)
        }
    }

    init(from r: inout ByteReader) throws {
        switch try r.tag("tensor count", below: 2) {
        case 0: self = .rows
        default: self = .rowsWhere(column: try r.int(), above: try r.double())
        }
    }
}

extension TensorSpec: WireCodable {
    func write(to w: inout ByteWriter) {
        w.count(shape.count)
        for dimension in shape {
            switch dimension {
            case .fixed(let n):
                w.u8(0)
                w.int(n)
            case .symbol(let name):
                w.u8(1)
                w.string(name)
            }
        }
        w.caseIndex(dtype)
    }

    init(from r: inout ByteReader) throws {
        let shape: [Dimension] = try (0..<r.count()).map { _ in
            try r.tag("dimension", below: 2) == 0 ? .fixed(try r.int()) : .symbol(try r.string())
        }
        self.init(shape: shape, dtype: try r.caseIndex(DType.self, what: "element type"))
    }
}

extension FunctionalKernel: WireCodable {
    func write(to w: inout ByteWriter) {
        switch self {
        case .detect(let maxObjects):
            w.u8(0)
            w.int(maxObjects)
        case .nms(let iou, let threshold):
            w.u8(1)
            w.double(iou)
            w.double(threshold)
        case .classify(let classes):
            w.u8(2)
            w.int(classes)
        case .dense(let activation):
            w.u8(3)
            w.caseIndex(activation)
        }
    }

    init(from r: inout ByteReader) throws {
        switch try r.tag("functional kernel", below: 4) {
        case 0: self = .detect(maxObjects: try r.int())
        case 1: self = .nms(iou: try r.double(), threshold: try r.double())
        case 2: self = .classify(classes: try r.int())
        default: self = .dense(activation: try r.caseIndex(Activation.self, what: "activation"))
        }
    }
}

extension InputGenerator: WireCodable {
    func write(to w: inout ByteWriter) {
        switch self {
        case .random: w.u8(0)
        case .scene(let objects, let classProbabilities):
            w.u8(1)
            w.write(objects)
            w.count(classProbabilities.values.count)
            for probabilities in classProbabilities.values { w.doubles(probabilities) }
        }
    }

    init(from r: inout ByteReader) throws {
        switch try r.tag("input generator", below: 2) {
        case 0: self = .random
        default:
            let objects: Phased<ParameterDistribution> = try r.read()
            let perPhase = try (0..<r.count()).map { _ in try r.doubles() }
            guard !perPhase.isEmpty else { throw WireError(description: "class probabilities with no phase") }
            self = .scene(objects: objects, classProbabilities: Phased(perPhase: perPhase))
        }
    }
}
