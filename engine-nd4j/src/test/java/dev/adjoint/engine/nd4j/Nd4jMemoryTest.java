package dev.adjoint.engine.nd4j;

import dev.adjoint.DType;
import dev.adjoint.Functional;
import dev.adjoint.Generator;
import dev.adjoint.MemoryScope;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.autograd.GradMode;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How the nd4j backend bounds its native memory ({@link NativeMemory}) and what it says when memory
 * runs out. The tests run at the JVM's default heap, where the garbage collector alone would let
 * native garbage grow by gigabytes before it ran; {@code Nd4jSoakTest} checks resident memory over a
 * whole training run.
 */
class Nd4jMemoryTest {
    private static final long MIB = 1L << 20;

    /** Without scopes, unreachable storages add up to the threshold, then a collection frees them. */
    @Test
    void garbageStaysNearTheThresholdWhateverTheHeapSize() {
        NativeMemory memory = new NativeMemory(8 * MIB, Long.MAX_VALUE);
        TensorFactory f = Tensor.on(new Nd4jBackend(memory));
        Tensor x = f.ones(DType.FLOAT32, 256, 256); // 256 KiB
        long most = 0;
        double sum = 0;
        for (int i = 0; i < 400; i++) { // 200 MiB of results, each dropped at once
            sum += x.mul(2.0).add(1.0).sum().item();
            most = Math.max(most, memory.liveBytes());
        }
        assertEquals(400 * 3.0 * 256 * 256, sum, "the loop must compute what it claims");
        assertTrue(memory.collections() > 0, "200 MiB of garbage past an 8 MiB threshold must trigger a collection");
        // Past the threshold by the allocation that crossed it, and by twice what was still counted
        // when a collection settled, if the reference handler had not reported all of it yet.
        assertTrue(most <= 2 * 8 * MIB + 256 * 1024, "native bytes peaked at " + most + "; " + memory);
    }

    /**
     * A MemoryScope per step frees every storage of the step but the leaves' gradients (state across
     * steps, for reading or accumulating): the count grows by at most the parameters' size per step
     * until a collection finds the dropped gradients unreachable.
     */
    @Test
    void aScopePerStepFreesWhatTheStepAllocated() {
        NativeMemory memory = new NativeMemory(256 * MIB, Long.MAX_VALUE);
        TensorFactory f = Tensor.on(new Nd4jBackend(memory));
        Generator g = new Generator(7);
        Tensor w1 = f.randn(g, DType.FLOAT32, 8, 16).mul(0.3).requiresGrad(true);
        Tensor b1 = f.zeros(DType.FLOAT32, 16).requiresGrad(true);
        Tensor w2 = f.randn(g, DType.FLOAT32, 16, 4).mul(0.3).requiresGrad(true);
        Tensor b2 = f.zeros(DType.FLOAT32, 4).requiresGrad(true);
        List<Tensor> params = List.of(w1, b1, w2, b2);
        long gradientBytes = 4L * params.stream().mapToInt(Tensor::numel).sum();
        Tensor x = f.randn(g, DType.FLOAT32, 32, 8);
        Tensor y = f.randn(g, DType.FLOAT32, 32, 4);
        long before = memory.liveBytes();
        double first = Double.NaN;
        double last = Double.NaN;
        for (int step = 0; step < 200; step++) {
            try (MemoryScope scope = MemoryScope.open()) {
                for (Tensor p : params) {
                    p.zeroGrad();
                }
                Tensor loss = Functional.mseLoss(x.matmul(w1).add(b1).relu().matmul(w2).add(b2), y);
                loss.backward();
                try (GradMode.Scope ignored = Tensor.noGrad()) {
                    for (Tensor p : params) {
                        p.sub_(p.grad(), 0.05);
                    }
                }
                last = loss.item();
                assertTrue(memory.liveBytes() > before + gradientBytes, "the step allocates inside the scope");
            }
            first = step == 0 ? last : first;
            // At most: a collection may also free garbage from before the loop (randn's temporaries).
            long allowed = before + (step + 1) * gradientBytes;
            assertTrue(memory.liveBytes() <= allowed, "native bytes after step " + step + ": " + memory.liveBytes()
                    + " > " + allowed + " (before the loop, plus the gradients of every step so far)");
            assertEquals(w1.shape(), w1.grad().shape(), "the gradient is readable after the step");
        }
        assertTrue(last < first, "the loop should train: loss " + first + " -> " + last);
    }

    @Test
    void anAllocationPastMaxBytesNamesTheOperationAndTheSize() {
        NativeMemory memory = new NativeMemory(MIB, 8 * MIB);
        TensorFactory f = Tensor.on(new Nd4jBackend(memory));
        Nd4jOutOfMemoryError zeros = assertThrows(Nd4jOutOfMemoryError.class, () -> f.zeros(DType.FLOAT32, 2048, 2048));
        assertTrue(zeros.getMessage().contains("allocating 4,194,304 FLOAT32 elements (16.0 MiB) for TensorFactory.zeros")
                && zeros.getMessage().contains("adjoint.nd4j.maxBytes (8.0 MiB)"), zeros.getMessage());

        Tensor column = f.ones(DType.FLOAT64, 1024, 1).requiresGrad(true);
        Tensor row = f.ones(DType.FLOAT64, 1, 1024);
        Nd4jOutOfMemoryError matmul = assertThrows(Nd4jOutOfMemoryError.class, () -> column.matmul(row));
        assertTrue(matmul.getMessage().contains("allocating 1,048,576 FLOAT64 elements (8.0 MiB) for Tensor.matmul"),
                matmul.getMessage());
        assertTrue(matmul.getMessage().startsWith("nd4j backend: out of native memory"), matmul.getMessage());
    }

    /** What JavaCPP or ND4J throw when the native allocation itself fails comes back with the size. */
    @Test
    void aFailedNativeAllocationIsWrappedWithTheSize() {
        NativeMemory memory = new NativeMemory(MIB, Long.MAX_VALUE);
        OutOfMemoryError javacpp = new OutOfMemoryError("Physical memory usage is too high: physicalBytes (9G) > maxPhysicalBytes (8G)");
        Nd4jOutOfMemoryError wrapped = assertThrows(Nd4jOutOfMemoryError.class,
                () -> Nd4jStorage.allocate(memory, DType.FLOAT64, 1000, () -> {
                    throw javacpp;
                }));
        assertSame(javacpp, wrapped.getCause());
        assertTrue(wrapped.getMessage().contains("allocating 1,000 FLOAT64 elements (7.8 KiB)")
                && wrapped.getMessage().contains("the native allocation failed"), wrapped.getMessage());

        RuntimeException nd4j = new RuntimeException("Allocation failed: [std::bad_alloc]");
        assertSame(nd4j, assertThrows(Nd4jOutOfMemoryError.class,
                () -> Nd4jStorage.allocate(memory, DType.FLOAT32, 10, () -> {
                    throw nd4j;
                })).getCause());

        IllegalStateException other = new IllegalStateException("not about memory");
        assertSame(other, assertThrows(IllegalStateException.class,
                () -> Nd4jStorage.allocate(memory, DType.FLOAT32, 10, () -> {
                    throw other;
                })));
        assertEquals(0, memory.liveBytes(), "nothing is counted for an allocation that failed");
        assertTrue(Nd4jStorage.allocate(memory, DType.FLOAT32, 10,
                () -> Nd4j.createBuffer(new float[10])).size() == 10);
    }

    @Test
    void sizesParseAsJavaCppWritesThem() {
        assertEquals(1048576L, NativeMemory.parseSize("1048576"));
        assertEquals(512L << 20, NativeMemory.parseSize("512m"));
        assertEquals(512L << 20, NativeMemory.parseSize("512MB"));
        assertEquals(2L << 30, NativeMemory.parseSize(" 2g "));
        assertEquals(64L << 10, NativeMemory.parseSize("64k"));
        assertThrows(NumberFormatException.class, () -> NativeMemory.parseSize("lots"));
        assertThrows(IllegalArgumentException.class, () -> NativeMemory.parseSize("-1"));
        assertThrows(IllegalArgumentException.class, () -> NativeMemory.parseSize("9999999t"));
    }
}
