package dev.adjoint.engine.nd4j;

import dev.adjoint.DType;
import dev.adjoint.MemoryScope;
import dev.adjoint.ReleasedTensorException;
import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the conformance suite does not cover: discovery, error wrapping, and how nd4j storages take part in a MemoryScope. */
class Nd4jBackendTest {
    private final Backend backend = new Nd4jBackend();

    @Test
    void isFoundThroughServiceLoaderAndAvailable() {
        Backend found = Backends.get("nd4j");
        assertEquals("nd4j", found.name());
        assertEquals(50, found.priority());
        assertTrue(found.availability().available(), found.availability().reason());
    }

    @Test
    void anNd4jFailureNamesTheKernelAndTheLayouts() {
        // The api never sends mismatched shapes; calling the SPI directly makes ND4J itself fail.
        Storage a = backend.fromDoubles(new double[6], DType.FLOAT32);
        Storage out = backend.allocate(DType.FLOAT32, 6);
        Layout rows = Layout.contiguous(Shape.of(2, 3));
        Layout cols = Layout.contiguous(Shape.of(3, 2));
        Nd4jKernelException e = assertThrows(Nd4jKernelException.class,
                () -> backend.binary(BinaryOp.ADD, a, rows, a, cols, out, Layout.contiguous(Shape.of(2, 3))));
        assertTrue(e.getMessage().contains("binary ADD") && e.getMessage().contains("[2, 3]")
                && e.getMessage().contains("[3, 2]"), e.getMessage());
    }

    @Test
    void aMemoryScopeFreesWhatWasMadeInsideAndKeepsWhatIsKept() {
        NativeMemory memory = new NativeMemory(256L << 20, Long.MAX_VALUE);
        Tensor before = Tensor.on(new Nd4jBackend(memory)).ones(DType.FLOAT64, 4);
        long live = memory.liveBytes();
        Tensor freed;
        Tensor kept;
        try (MemoryScope scope = MemoryScope.open()) {
            freed = before.mul(2.0);
            kept = scope.keep(before.add(1.0));
            assertTrue(scope.size() > 0);
        }
        assertEquals(live + 4 * 8, memory.liveBytes(), "the native buffers of all but the kept tensor are freed");
        assertArrayEquals(new double[] {1, 1, 1, 1}, before.toDoubleArray());
        assertArrayEquals(new double[] {2, 2, 2, 2}, kept.toDoubleArray());
        ReleasedTensorException e = assertThrows(ReleasedTensorException.class, freed::toDoubleArray);
        assertTrue(e.getMessage().contains("MemoryScope"), e.getMessage());
        // A kernel handed the freed storage directly (past the Tensor API's check) fails too.
        Storage gone = freedStorage(before);
        assertThrows(ReleasedStorageException.class, () -> backend.toDoubles(gone, Layout.contiguous(Shape.of(4))));
    }

    private static Storage freedStorage(Tensor on) {
        Storage s;
        try (MemoryScope ignored = MemoryScope.open()) {
            s = on.mul(3.0).storage();
        }
        return s;
    }

    @Test
    void keptStoragesMoveToTheEnclosingScope() {
        Tensor inner;
        try (MemoryScope outer = MemoryScope.open()) {
            try (MemoryScope scope = MemoryScope.open()) {
                inner = scope.keep(Tensor.on(backend).ones(DType.FLOAT32, 3));
            }
            assertArrayEquals(new double[] {1, 1, 1}, inner.toDoubleArray());
        }
        assertThrows(ReleasedTensorException.class, inner::toDoubleArray);
    }

    /** State marked long-lived (optimizer buffers) is left to the garbage collector, even when made in a scope. */
    @Test
    void aScopeLeavesLongLivedStorages() {
        Tensor state;
        Tensor temporary;
        try (MemoryScope scope = MemoryScope.open()) {
            state = Tensor.on(backend).ones(DType.FLOAT32, 3);
            temporary = state.mul(2.0);
            backend.markLongLived(state.storage());
        }
        state.mul_(3.0);
        assertArrayEquals(new double[] {3, 3, 3}, state.toDoubleArray());
        ReleasedTensorException e = assertThrows(ReleasedTensorException.class, temporary::toDoubleArray);
        assertTrue(e.getMessage().contains("markLongLived"), e.getMessage());
    }

    /** Leaves' gradients are state across steps: readable after the scope, and they accumulate over several. */
    @Test
    void gradientsSurviveTheScopeAndAccumulateAcrossScopes() {
        Tensor w = Tensor.on(backend).fromArray(new double[] {1, 2, 3}, 3).requiresGrad(true);
        for (int microBatch = 0; microBatch < 2; microBatch++) {
            try (MemoryScope scope = MemoryScope.open()) {
                w.mul(w).sum().backward();
            }
        }
        assertArrayEquals(new double[] {4, 8, 12}, w.grad().toDoubleArray(), "2 x (2 w), summed over two scopes");
    }
}
