package dev.adjoint.benchmarks.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.adjoint.benchmarks.report.Operation;
import dev.adjoint.benchmarks.report.PeerLibrary;

import java.util.Set;

/**
 * DJL with its PyTorch engine as the report's in-JVM peer ({@code benchmarks/run --djl}): the DJL
 * benchmarks' state objects, set up as JMH would, timed by the report like Adjoint's own.
 */
public final class DjlPeer implements PeerLibrary {
    private static final Set<String> WORKLOADS = Set.of("gemm-1024", "gemm-odd", "gemm-tall", "gemm-deep", "mlp-step",
            "cnn-step", "transformer-block", "encoder-layer", "lstm", "language-model", "resnet-step", "tape");

    @Override
    public String id() {
        return "djl";
    }

    @Override
    public String title() {
        return "DJL 0.35 / PyTorch 2.7.1";
    }

    @Override
    public boolean supports(String workloadId) {
        return WORKLOADS.contains(workloadId);
    }

    @Override
    public Operation operation(String workloadId) {
        return switch (workloadId) {
            case "gemm-1024" -> gemm(1024, 1024, 1024);
            case "gemm-odd" -> gemm(1000, 333, 777);
            case "gemm-tall" -> gemm(4096, 64, 256);
            case "gemm-deep" -> gemm(64, 4096, 64);
            case "mlp-step" -> {
                DjlTrainingStepBenchmark bench = new DjlTrainingStepBenchmark();
                bench.batchSize = 64;
                bench.setUp();
                yield Operation.timed(bench::oneThread);
            }
            case "cnn-step" -> {
                DjlConvBenchmark.Step step = new DjlConvBenchmark.Step();
                step.setUp();
                yield Operation.timed(step::step);
            }
            case "transformer-block" -> {
                DjlTransformerBlockBenchmark bench = new DjlTransformerBlockBenchmark();
                bench.setUp();
                yield Operation.timed(bench::oneThread);
            }
            case "encoder-layer" -> {
                DjlEncoderLayerBenchmark bench = new DjlEncoderLayerBenchmark();
                bench.setUp();
                yield Operation.timed(bench::oneThread);
            }
            case "language-model" -> {
                DjlLanguageModelBenchmark bench = new DjlLanguageModelBenchmark();
                bench.setUp();
                yield Operation.timed(bench::oneThread);
            }
            case "lstm" -> {
                DjlLstmBenchmark bench = new DjlLstmBenchmark();
                bench.setUp();
                yield Operation.timed(bench::oneThread);
            }
            case "resnet-step" -> {
                DjlResNetBenchmark bench = new DjlResNetBenchmark();
                bench.setUp();
                yield Operation.timed(bench::oneThread);
            }
            case "tape" -> tape();
            default -> throw new IllegalArgumentException("DjlPeer: no workload '" + workloadId + "'");
        };
    }

    private static Operation gemm(int m, int k, int n) {
        DjlGemmBenchmark bench = new DjlGemmBenchmark();
        bench.dtype = "FLOAT32";
        bench.m = m;
        bench.k = k;
        bench.n = n;
        bench.setUp();
        DjlGemmBenchmark.Flops flops = new DjlGemmBenchmark.Flops();
        return Operation.counting(() -> bench.oneThread(flops), () -> flops.gflops);
    }

    /**
     * TapeOverheadBenchmark.addRecorded in DJL: a 16-element FLOAT32 add of two arrays that require
     * a gradient, with gradient recording on; the result is closed at once, as a DJL user must
     * (its native memory is not the garbage collector's).
     */
    private static Operation tape() {
        Engine engine = Engine.getEngine("PyTorch");
        NDManager manager = NDManager.newBaseManager(engine.defaultDevice(), engine.getEngineName());
        NDArray a = manager.randomNormal(new Shape(16));
        NDArray b = manager.randomNormal(new Shape(16));
        a.setRequiresGradient(true);
        b.setRequiresGradient(true);
        // Recording stays on for the life of this cell's JVM, which times nothing else.
        GradientCollector recording = engine.newGradientCollector();
        return Operation.timed(() -> {
            NDArray sum = a.add(b);
            sum.close();
            return sum;
        });
    }
}
