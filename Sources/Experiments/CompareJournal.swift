import Foundation
import WaferModel

/// The runs of an `octopus compare` as they finish, in `DIR/compare-runs.jsonl` (one run per line)
/// after a first line saying what matrix and shard they belong to. An interrupted compare resumes
/// from it (`--resume`); the journals of a sharded compare are what `octopus compare merge` joins.
public final class CompareJournal: @unchecked Sendable {
    /// What the runs are runs of.
    public struct Header: Codable, Equatable, Sendable {
        /// The command line without --jobs, --out, --quiet, --shard and --resume.
        public var command: String
        public var workloads: [String]
        public var sizes: [CompareMatrix.Size]
        public var loads: [Double]
        public var referenceClusters: Int
        /// Replicates per cell; nil (journals from before replicates) is 1.
        public var replicates: Int?
        /// The admission policy; nil (journals from before it was chosen) is `queues`.
        public var admission: AdmissionConfig.Policy?
        /// Variants run beside the matrix; nil: none.
        public var variants: [String]?
        /// Scheduler parameter defaults; nil: none.
        public var schedulerParameters: [String: String]?
        /// The seed lines of the report.
        public var seeds: [String]
        /// `I/N`.
        public var shard: String

        public init(
            command: String, matrix: CompareMatrix, seeds: [String], shard: CompareRunner.Shard
        ) {
            self.command = command
            workloads = matrix.workloads
            sizes = matrix.sizes
            loads = matrix.loads
            referenceClusters = matrix.referenceClusters
            replicates = matrix.replicates == 1 ? nil : matrix.replicates
            admission = matrix.admission
            variants = matrix.variants.isEmpty ? nil : matrix.variants
            schedulerParameters = matrix.schedulerParameters.isEmpty ? nil : matrix.schedulerParameters
            self.seeds = seeds
            self.shard = shard.description
        }

        /// The matrix the runs belong to (with the built-in schedulers).
        public var matrix: CompareMatrix {
            CompareMatrix(
                workloads: workloads, sizes: sizes, loads: loads, referenceClusters: referenceClusters,
                replicates: replicates ?? 1, admission: admission ?? .queues, variants: variants ?? [],
                schedulerParameters: schedulerParameters ?? [:])
        }

        /// The same matrix, whatever the shard.
        func sameMatrix(as other: Header) -> Bool {
            var a = self
            var b = other
            a.shard = ""
            b.shard = ""
            return a == b
        }
    }

    /// A journal that cannot be used as asked.
    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    public static let fileName = "compare-runs.jsonl"
    public let path: String
    private let handle: FileHandle
    private let lock = NSLock()

    /// Opens the journal in `directory` for runs of `header`. With `resume`, an existing journal of
    /// the same matrix and shard is continued and its runs returned; without, an existing journal
    /// is refused (it holds work a mistaken run would throw away).
    public static func open(directory: String, header: Header, resume: Bool) throws -> (
        CompareJournal, done: [CompareRun]
    ) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent(fileName)
        var done: [CompareRun] = []
        if FileManager.default.fileExists(atPath: path) {
            guard resume else {
                throw Problem(
                    description:
                        "\(path) holds the runs of an earlier compare: give --resume to continue it, or choose another --out"
                )
            }
            let (existing, runs) = try read(path: path)
            guard existing == header else {
                throw Problem(
                    description:
                        "\(path) belongs to another compare ('\(existing.command)', shard \(existing.shard)); --resume continues only the same command and shard"
                )
            }
            done = runs
        } else {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var line = try encoder.encode(header)
            line.append(0x0A)
            guard FileManager.default.createFile(atPath: path, contents: line) else {
                throw Problem(description: "cannot create \(path)")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw Problem(description: "cannot write \(path)")
        }
        handle.seekToEndOfFile()
        return (CompareJournal(path: path, handle: handle), done)
    }

    private init(path: String, handle: FileHandle) {
        self.path = path
        self.handle = handle
    }

    /// Appends one finished run (safe from several threads). A run lost to a failed write is
    /// simply run again on resume.
    public func append(_ run: CompareRun) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard var line = try? encoder.encode(run) else { return }
        line.append(0x0A)
        lock.lock()
        defer { lock.unlock() }
        handle.write(line)
    }

    public func close() { try? handle.close() }

    /// The header and runs of the journal at `path`. A last line cut short by an interruption is
    /// ignored (that run is simply run again); any other bad line is an error naming it.
    public static func read(path: String) throws -> (Header, [CompareRun]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Problem(description: "\(path): no such file (a compare --out directory holds \(fileName))")
        }
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        let decoder = JSONDecoder()
        guard let first = lines.first, let header = try? decoder.decode(Header.self, from: Data(first)) else {
            throw Problem(description: "\(path):1: not the header of a compare journal")
        }
        var runs: [CompareRun] = []
        for (index, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            do {
                runs.append(try decoder.decode(CompareRun.self, from: Data(line)))
            } catch {
                // Only the last line may be incomplete (the process stopped while writing it).
                let isLast = lines[(index + 1)...].allSatisfy(\.isEmpty)
                if isLast && data.last != 0x0A { break }
                throw Problem(description: "\(path):\(index + 1): not a compare run (\(error))")
            }
        }
        return (header, runs)
    }

    /// The runs of the journals in `directories`, which must be the shards 1…N of one compare
    /// (or one complete compare), with their header.
    public static func merge(_ directories: [String]) throws -> (Header, [CompareRun]) {
        var header: Header?
        var shards: [String: String] = [:]
        var runs: [CompareRun] = []
        for directory in directories {
            let path = (directory as NSString).appendingPathComponent(fileName)
            let (h, r) = try read(path: path)
            if let header, !header.sameMatrix(as: h) {
                throw Problem(
                    description:
                        "\(path) is a shard of another compare ('\(h.command)', not '\(header.command)')")
            }
            if let other = shards[h.shard] {
                throw Problem(description: "\(directory) and \(other) are both shard \(h.shard)")
            }
            shards[h.shard] = directory
            header = header ?? h
            runs += r
        }
        guard let header else { throw Problem(description: "give the --out directories of the shards to merge") }
        let counts = Set(shards.keys.compactMap { CompareRunner.Shard.parse($0)?.count })
        guard counts.count == 1, let count = counts.first,
            Set(shards.keys) == Set((1...count).map { "\($0)/\(count)" })
        else {
            let all = shards.keys.sorted().joined(separator: ", ")
            throw Problem(description: "the shards given (\(all)) are not all of 1/N … N/N of one compare")
        }
        return (header, runs)
    }
}
