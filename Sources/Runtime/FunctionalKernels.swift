import WaferModel

/// Makes the kernels of functional mode; every engine gets its own. The `octopus` command passes
/// OpenBLAS's (`BLASExecutor` in the Functional module), so this module links no BLAS itself.
public typealias FunctionalKernels = @Sendable () throws -> any FunctionalExecutor
