package dev.adjoint.benchmarks.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.GradientCollector;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The story: {@code dev.adjoint.benchmarks.ConvBenchmark} on DJL 0.35 with its PyTorch 2.7.1 engine
 * (oneDNN for FLOAT32 convolutions), so one JMH run under the {@code djl} profile puts Adjoint's
 * convolutions next to libtorch's driven from Java: the same shapes (conv2d forward, then the
 * gradients of {@code sum(out * g)} for input, weight and bias) and the same CNN training step
 * (two conv-BN-ReLU-maxpool blocks, 32 and 64 channels, a linear head, cross-entropy, Adam lr 1e-3,
 * batch 64), written with DJL's functional ops and a GradientCollector, Adam by hand as torch.optim.Adam.
 *
 * <p>Pitfalls avoided: as {@link DjlTrainingStepBenchmark} (offline natives, one or two intra-op
 * threads per method, each call's temporaries in a sub-manager closed at its end, results copied out).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 2)
public class DjlConvBenchmark {
    private static final String ONE = "-Dai.djl.pytorch.num_threads=1";
    private static final String TWO = "-Dai.djl.pytorch.num_threads=2";
    private static final String OFFLINE = "-Doffline=true";
    private static final String INTEROP = "-Dai.djl.pytorch.num_interop_threads=1";
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** The benchmark thread's CPU time and calls per iteration, as ConvBenchmark.CpuTime (libtorch on one thread works on the caller's). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class CpuTime {
        public long cpuNanos;
        public long calls;

        @Setup(Level.Iteration)
        public void reset() {
            cpuNanos = 0;
            calls = 0;
        }

        float measure(java.util.function.DoubleSupplier call) {
            long start = THREADS.getCurrentThreadCpuTime();
            float result = (float) call.getAsDouble();
            cpuNanos += THREADS.getCurrentThreadCpuTime() - start;
            calls++;
            return result;
        }
    }

    /** One convolution's operands, as ConvBenchmark.Conv. */
    @State(Scope.Thread)
    public static class Conv {
        @Param({"resnet3x3", "stem7x7", "depthwise3x3", "depthwise3x3s2", "fmnist1", "fmnist2"})
        public String shape;

        NDManager manager;
        NDArray x;
        NDArray w;
        NDArray b;
        NDArray g;
        Shape stride;
        Shape padding;
        int groups;

        @Setup
        public void setUp() {
            Engine engine = Engine.getEngine("PyTorch");
            manager = NDManager.newBaseManager(engine.defaultDevice(), engine.getEngineName());
            long[][] dims = switch (shape) {
                case "resnet3x3" -> new long[][] {{32, 64, 56, 56}, {64, 64, 3, 3}, {1}, {1}, {1}};
                case "stem7x7" -> new long[][] {{32, 3, 224, 224}, {64, 3, 7, 7}, {2}, {3}, {1}};
                case "depthwise3x3" -> new long[][] {{32, 128, 28, 28}, {128, 1, 3, 3}, {1}, {1}, {128}};
                case "depthwise3x3s2" -> new long[][] {{32, 128, 56, 56}, {128, 1, 3, 3}, {2}, {1}, {128}};
                case "fmnist1" -> new long[][] {{64, 1, 28, 28}, {32, 1, 3, 3}, {1}, {1}, {1}};
                case "fmnist2" -> new long[][] {{64, 32, 14, 14}, {64, 32, 3, 3}, {1}, {1}, {1}};
                default -> throw new IllegalArgumentException("unknown shape " + shape);
            };
            stride = new Shape(dims[2][0], dims[2][0]);
            padding = new Shape(dims[3][0], dims[3][0]);
            groups = (int) dims[4][0];
            Random random = new Random(1);
            x = manager.create(uniform(random, new Shape(dims[0]).size(), -1, 1), new Shape(dims[0]));
            float bound = (float) (1 / Math.sqrt(dims[1][1] * dims[1][2] * dims[1][3]));
            w = manager.create(uniform(random, new Shape(dims[1]).size(), -bound, bound), new Shape(dims[1]));
            b = manager.create(uniform(random, dims[1][0], -0.1f, 0.1f), new Shape(dims[1][0]));
            x.setRequiresGradient(true);
            w.setRequiresGradient(true);
            b.setRequiresGradient(true);
            try (NDManager probe = manager.newSubManager()) {
                Shape out = Conv2d.conv2d(x, w, b, stride, padding, new Shape(1, 1), groups).singletonOrThrow().getShape();
                g = manager.create(uniform(random, out.size(), -1, 1), out);
            }
        }

        @TearDown
        public void tearDown() {
            manager.close();
        }

        float forwardBackward() {
            try (NDManager call = manager.newSubManager()) {
                for (NDArray a : new NDArray[] {x, w, b, g}) {
                    a.tempAttach(call);
                }
                try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
                    NDArray out = Conv2d.conv2d(x, w, b, stride, padding, new Shape(1, 1), groups).singletonOrThrow();
                    collector.backward(out.mul(g).sum());
                }
                float checksum = 0;
                for (NDArray p : new NDArray[] {x, w, b}) {
                    try (NDArray grad = p.getGradient()) {
                        checksum += grad.getFloat(new long[grad.getShape().dimension()]);
                        grad.subi(grad); // libtorch accumulates gradients; zero them for the next call
                    }
                }
                return checksum;
            }
        }
    }

    /** benchmarks/train's CNN: parameters, running statistics, Adam state and a batch. */
    @State(Scope.Thread)
    public static class Step {
        private static final float LR = 1e-3f;
        private static final float BETA1 = 0.9f;
        private static final float BETA2 = 0.999f;
        private static final float EPS = 1e-8f;

        NDManager manager;
        NDArray images;
        NDArray oneHot;
        NDArray[] params;
        NDArray[] runningMean;
        NDArray[] runningVar;
        NDArray[] m;
        NDArray[] v;
        int step;

        @Setup
        public void setUp() {
            Engine engine = Engine.getEngine("PyTorch");
            manager = NDManager.newBaseManager(engine.defaultDevice(), engine.getEngineName());
            Random random = new Random(2);
            images = manager.create(uniform(random, 64 * 784, 0, 1), new Shape(64, 1, 28, 28));
            float[] labels = new float[64];
            for (int i = 0; i < labels.length; i++) {
                labels[i] = random.nextInt(10);
            }
            try (NDArray y = manager.create(labels, new Shape(64)).toType(DataType.INT32, false)) {
                oneHot = y.oneHot(10, DataType.FLOAT32);
            }
            params = new NDArray[] {
                parameter(random, 9, new Shape(32, 1, 3, 3)), parameter(random, 9, new Shape(32)),
                ones(32), zeros(32),
                parameter(random, 288, new Shape(64, 32, 3, 3)), parameter(random, 288, new Shape(64)),
                ones(64), zeros(64),
                parameter(random, 3136, new Shape(10, 3136)), parameter(random, 3136, new Shape(10)),
            };
            for (NDArray p : params) {
                p.setRequiresGradient(true);
            }
            runningMean = new NDArray[] {manager.zeros(new Shape(32)), manager.zeros(new Shape(64))};
            runningVar = new NDArray[] {manager.ones(new Shape(32)), manager.ones(new Shape(64))};
            m = new NDArray[params.length];
            v = new NDArray[params.length];
            for (int i = 0; i < params.length; i++) {
                m[i] = manager.zeros(params[i].getShape());
                v[i] = manager.zeros(params[i].getShape());
            }
        }

        @TearDown
        public void tearDown() {
            manager.close();
        }

        private NDArray parameter(Random random, int fanIn, Shape shape) {
            float bound = (float) (1 / Math.sqrt(fanIn));
            return manager.create(uniform(random, shape.size(), -bound, bound), shape);
        }

        private NDArray ones(int n) {
            return manager.ones(new Shape(n));
        }

        private NDArray zeros(int n) {
            return manager.zeros(new Shape(n));
        }

        private NDArray block(NDArray x, int i, int p) {
            NDArray h = Conv2d.conv2d(x, params[p], params[p + 1], new Shape(1, 1), new Shape(1, 1)).singletonOrThrow();
            h = BatchNorm.batchNorm(h, runningMean[i], runningVar[i], params[p + 2], params[p + 3], 1, 0.1f, 1e-5f,
                    true).singletonOrThrow();
            return Pool.maxPool2d(h.maximum(0f), new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false);
        }

        float step() {
            step++;
            float value;
            try (NDManager call = manager.newSubManager()) {
                // Everything the step reads is attached to the call's manager for the duration, so every
                // array an op makes from them is freed when the call ends.
                images.tempAttach(call);
                oneHot.tempAttach(call);
                for (NDArray[] arrays : new NDArray[][] {params, m, v, runningMean, runningVar}) {
                    for (NDArray a : arrays) {
                        a.tempAttach(call);
                    }
                }
                try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
                    NDArray h = block(block(images, 0, 0), 1, 4).reshape(64, 3136);
                    NDArray logits = h.matMul(params[8].transpose()).add(params[9]);
                    NDArray loss = logits.logSoftmax(1).mul(oneHot).sum().neg().div(64);
                    collector.backward(loss);
                    value = loss.getFloat();
                }
                // Adam as torch.optim.Adam: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
                // p -= lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps).
                float c1 = 1 - (float) Math.pow(BETA1, step);
                float c2 = 1 - (float) Math.pow(BETA2, step);
                for (int i = 0; i < params.length; i++) {
                    try (NDArray grad = params[i].getGradient()) {
                        m[i].muli(BETA1).addi(grad.mul(1 - BETA1));
                        v[i].muli(BETA2).addi(grad.square().muli(1 - BETA2));
                        params[i].subi(m[i].div(c1).div(v[i].div(c2).sqrt().add(EPS)).mul(LR));
                        grad.subi(grad);
                    }
                }
            }
            return value;
        }
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {OFFLINE, ONE, INTEROP})
    public float convOneThread(Conv c, CpuTime cpu) {
        return cpu.measure(c::forwardBackward);
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {OFFLINE, TWO, INTEROP})
    public float convTwoThreads(Conv c, CpuTime cpu) {
        return cpu.measure(c::forwardBackward);
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {OFFLINE, ONE, INTEROP})
    public float cnnStepOneThread(Step s, CpuTime cpu) {
        return cpu.measure(s::step);
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {OFFLINE, TWO, INTEROP})
    public float cnnStepTwoThreads(Step s, CpuTime cpu) {
        return cpu.measure(s::step);
    }

    private static float[] uniform(Random random, long n, float low, float high) {
        float[] values = new float[(int) n];
        for (int i = 0; i < values.length; i++) {
            values[i] = low + (high - low) * random.nextFloat();
        }
        return values;
    }
}
