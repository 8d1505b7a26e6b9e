/**
 * Vector API kernels and the packed GEMM. The incubator module is optional at run time: without
 * {@code --add-modules jdk.incubator.vector} the backend reports itself unavailable instead of failing
 * to load. Found through {@link java.util.ServiceLoader}; nothing is exported.
 */
module dev.adjoint.engine.simd {
    requires dev.adjoint.api;
    requires static jdk.incubator.vector;

    provides dev.adjoint.spi.Backend with dev.adjoint.engine.simd.SimdBackend;
}
