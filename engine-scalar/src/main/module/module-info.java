/** The reference backend: plain Java loops. Found through {@link java.util.ServiceLoader}; nothing is exported. */
module dev.adjoint.engine.scalar {
    requires dev.adjoint.api;

    provides dev.adjoint.spi.Backend with dev.adjoint.engine.scalar.ScalarBackend;
}
