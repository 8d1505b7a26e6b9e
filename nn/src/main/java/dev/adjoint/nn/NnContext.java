package dev.adjoint.nn;

import dev.adjoint.DType;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Generator;
import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Backend;

import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Where a layer puts its parameters and how it initialises them: the backend, the floating dtype, and
 * the generator its initialisers draw from. Passing one context with a seeded generator to every
 * layer makes a whole model's initial weights reproducible, in construction order.
 */
public record NnContext(Backend backend, DType dtype, Generator generator) {
    public NnContext {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(generator, "generator");
        if (!dtype.isFloatingPoint()) {
            throw new DTypeMismatchException("NnContext: parameters must be FLOAT32 or FLOAT64, got " + dtype);
        }
    }

    /** FLOAT32 parameters on {@code backend}, initialised from {@code generator}. */
    public static NnContext of(Backend backend, Generator generator) {
        return new NnContext(backend, DType.FLOAT32, generator);
    }

    public static NnContext of(Backend backend, DType dtype, Generator generator) {
        return new NnContext(backend, dtype, generator);
    }

    /** FLOAT32 on the default backend with a seeded generator. */
    public static NnContext seeded(long seed) {
        return new NnContext(Backends.defaultBackend(), DType.FLOAT32, new Generator(seed));
    }

    /**
     * FLOAT32 on the default backend with an unseeded generator, like PyTorch without manual_seed;
     * what the layer constructors without a context use. Not reproducible: pass a context for that.
     */
    public static NnContext defaults() {
        return new NnContext(Backends.defaultBackend(), DType.FLOAT32,
                new Generator(ThreadLocalRandom.current().nextLong()));
    }
}
