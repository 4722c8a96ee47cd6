import Foundation

/// Single-precision matrix products on OpenBLAS.
///
/// OpenBLAS is loaded when functional mode first needs it (``load()``), not linked: a linked
/// OpenBLAS starts its worker threads when the process starts, and they spin on `sched_yield`
/// for about a tenth of a second after start-up and after every product — in every cluster
/// process of a wafer, on cores the emulation needs. Loaded here, it runs single-threaded
/// (`OPENBLAS_NUM_THREADS=1`) unless the environment already says otherwise: a wafer's processes
/// already share the cores.
public enum GEMM {
    /// `cblas_sgemm` as declared in cblas.h: its enums are C `int`s, and `blasint` is `int` in
    /// Debian's (32-bit index) OpenBLAS.
    private typealias SGEMM =
        @convention(c) (
            Int32, Int32, Int32, Int32, Int32, Int32,
            Float, UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32,
            Float, UnsafeMutablePointer<Float>?, Int32
        ) -> Void
    /// cblas.h's `CblasRowMajor` and `CblasNoTrans`.
    private static let rowMajor: Int32 = 101
    private static let noTranspose: Int32 = 111

    /// The shared object tried in turn (Debian's soname first).
    static let libraryNames = ["libopenblas.so.0", "libopenblas.so"]

    /// OpenBLAS could not be loaded.
    public struct Unavailable: Error, CustomStringConvertible {
        public var detail: String
        public var description: String {
            "functional mode needs OpenBLAS: \(detail) (install it with `apt-get install libopenblas-dev`, or run scripts/ensure-deps)"
        }
    }

    private static let loaded: Result<SGEMM, Unavailable> = {
        setenv("OPENBLAS_NUM_THREADS", "1", 0)
        var errors: [String] = []
        for name in libraryNames {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
                errors.append(dlerror().map { String(cString: $0) } ?? name)
                continue
            }
            guard let symbol = dlsym(handle, "cblas_sgemm") else {
                errors.append("\(name) has no cblas_sgemm")
                continue
            }
            return .success(unsafeBitCast(symbol, to: SGEMM.self))
        }
        return .failure(Unavailable(detail: errors.joined(separator: "; ")))
    }()

    /// Loads OpenBLAS if it is not loaded yet; throws ``Unavailable`` with the loader's reason.
    public static func load() throws {
        _ = try loaded.get()
    }

    /// `C[m×n] = A[m×k] · B[k×n]`, row-major. Call ``load()`` first: without OpenBLAS this stops
    /// the process with the loader's reason.
    public static func multiply(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> [Float] {
        precondition(a.count == m * k && b.count == k * n, "GEMM operands do not match [\(m)×\(k)]·[\(k)×\(n)]")
        var c = [Float](repeating: 0, count: m * n)
        guard m > 0, n > 0, k > 0 else { return c }
        let sgemm: SGEMM
        switch loaded {
        case .success(let function): sgemm = function
        case .failure(let error): fatalError("\(error)")
        }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    sgemm(
                        rowMajor, noTranspose, noTranspose, Int32(m), Int32(n), Int32(k),
                        1, pa.baseAddress, Int32(k), pb.baseAddress, Int32(n), 0, pc.baseAddress, Int32(n))
                }
            }
        }
        return c
    }
}
