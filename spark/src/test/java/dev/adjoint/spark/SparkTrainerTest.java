package dev.adjoint.spark;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.nn.Module;
import dev.adjoint.nn.data.Idx;
import dev.adjoint.nn.data.IdxArray;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The trainer in Spark's local mode (local[4]): replicas against one process, the replica hash check,
 * and a task killed mid-run.
 */
class SparkTrainerTest {
    private static final List<Example> DATA = TestModels.blobs(240, 3);
    private static final long SEED = 11;
    /** The default backend where results are compared within a tolerance. */
    private static final String BACKEND = "simd";
    /**
     * Where two runs are compared bit for bit: engine-simd's dot-product kernels sum vector lanes with
     * reduceLanes, whose order differs between the JIT's compiled code and the interpreter, so two simd
     * runs in one JVM can differ in the last bit (replicas of one run cannot: they apply the same
     * averaged gradient). The scalar engine's loops have one order.
     */
    private static final String EXACT = "scalar";

    static JavaRDD<Example> rdd() {
        return JavaSparkContext.fromSparkContext(LocalSpark.session().sparkContext()).parallelize(DATA, 3);
    }

    static SparkTrainer.Builder trainer(ModelFactory model, OptimizerFactory optimizer, int replicas, int globalBatch,
                                        long steps) {
        return SparkTrainer.builder(model, optimizer).globalBatchSize(globalBatch).steps(steps).replicas(replicas)
                .seed(SEED).backend(BACKEND).collectiveTimeout(Duration.ofSeconds(60));
    }

    static SparkTrainer.Builder exact(ModelFactory model, OptimizerFactory optimizer, int replicas, int globalBatch,
                                      long steps) {
        return trainer(model, optimizer, replicas, globalBatch, steps).backend(EXACT);
    }

    /** The largest |a - b| over every parameter; the state dicts must have the same keys. */
    static double maxDifference(Module a, Module b) {
        Map<String, Tensor> x = a.stateDict();
        Map<String, Tensor> y = b.stateDict();
        assertEquals(x.keySet(), y.keySet());
        double worst = 0;
        for (String k : x.keySet()) {
            double[] u = x.get(k).toDoubleArray();
            double[] v = y.get(k).toDoubleArray();
            for (int i = 0; i < u.length; i++) {
                worst = Math.max(worst, Math.abs(u[i] - v[i]));
            }
        }
        return worst;
    }

    static void assertSameBits(Module a, Module b) {
        Map<String, Tensor> x = a.stateDict();
        Map<String, Tensor> y = b.stateDict();
        assertEquals(x.keySet(), y.keySet());
        for (String k : x.keySet()) {
            assertArrayEquals(x.get(k).toDoubleArray(), y.get(k).toDoubleArray(), 0.0, k);
        }
    }

    @Test
    void replicasMatchOneProcessOnTheSameGlobalBatchInFloat64() {
        // 2 replicas, and 3 (where the order of a sum of three matters and the canonical order is tested).
        for (int replicas : new int[] {2, 3}) {
            int globalBatch = 8 * replicas;
            TestModels.Mlp factory = TestModels.Mlp.plain(DType.FLOAT64);
            TrainingResult result = trainer(factory, TestModels.adam(), replicas, globalBatch, 50).build().fit(rdd());
            SingleProcess reference = new SingleProcess(factory, TestModels.adam(), LossFunction.crossEntropy(), DATA,
                    replicas, globalBatch, SEED, 50, BACKEND);
            assertEquals(50, result.steps());
            assertEquals(replicas, result.replicas());
            double difference = maxDifference(result.model(), reference.model);
            assertTrue(difference <= 1e-12, replicas + " replicas: parameters differ by " + difference);
            assertArrayEquals(reference.losses, result.losses(), 1e-12);
            // The model has learnt something: a sign that the steps really ran.
            assertTrue(result.lastLoss() < 0.5 * result.losses()[0], java.util.Arrays.toString(result.losses()));
        }
    }

    @Test
    void twoReplicasMatchOneProcessInFloat32WithinRounding() {
        TestModels.Mlp factory = TestModels.Mlp.plain(DType.FLOAT32);
        TrainingResult result = trainer(factory, TestModels.sgdMomentum(), 2, 16, 50).build().fit(rdd());
        SingleProcess reference = new SingleProcess(factory, TestModels.sgdMomentum(), LossFunction.crossEntropy(), DATA,
                2, 16, SEED, 50, BACKEND);
        // Two means of 8 averaged against one mean of 16: the gradients round differently (about 1e-7
        // relative), and 50 steps of SGD with momentum carry that into the weights (of size ~1).
        double difference = maxDifference(result.model(), reference.model);
        assertTrue(difference <= 1e-5, "parameters differ by " + difference);
        assertArrayEquals(reference.losses, result.losses(), 1e-5);
    }

    @Test
    void theRingAndSparksAllGatherGiveTheSameBits() {
        // Few steps: each of Spark's allGather calls takes about a second.
        TestModels.Mlp factory = TestModels.Mlp.plain(DType.FLOAT32);
        TrainingResult ring = exact(factory, TestModels.adam(), 2, 16, 6).collective(Collective.RING)
                .ringChunkBytes(256).build().fit(rdd());
        TrainingResult gathered = exact(factory, TestModels.adam(), 2, 16, 6).collective(Collective.SPARK_ALLGATHER)
                .build().fit(rdd());
        assertEquals("ring", ring.collective());
        assertEquals("spark-allgather", gathered.collective());
        assertSameBits(ring.model(), gathered.model());
        assertArrayEquals(ring.losses(), gathered.losses(), 0.0);
    }

    @Test
    void aReplicaThatDriftsFailsTheJobAtTheNextHashCheck() {
        // Replica 1 nudges a weight in its 7th forward (step 6): the hashes compared after step 10 differ.
        TestModels.Mlp drifting = new TestModels.Mlp(DType.FLOAT32, 1, 7, true);
        ReplicaDivergenceException e = assertThrows(ReplicaDivergenceException.class,
                () -> trainer(drifting, TestModels.adam(), 2, 16, 30).hashEvery(5).build().fit(rdd()));
        assertEquals(10, e.step());
        assertEquals(2, e.hashes().length);
        assertTrue(!e.hashes()[0].equals(e.hashes()[1]), e.getMessage());
        // Up to step 5 they agreed: no failure with the check before the nudge only.
        TrainingResult early = trainer(drifting, TestModels.adam(), 2, 16, 5).hashEvery(5).build().fit(rdd());
        assertEquals(5, early.steps());
    }

    @Test
    void aTaskKilledMidRunResumesFromTheLastCheckpointAndEndsWhereAnUninterruptedRunEnds(@TempDir Path dir) {
        // The same wrapped model in both runs; in the first, replica 1 dies in step 23 of stage attempt 0.
        TestModels.Mlp healthy = new TestModels.Mlp(DType.FLOAT64, 99, 24, false);
        TestModels.Mlp dying = new TestModels.Mlp(DType.FLOAT64, 1, 24, false);
        TrainingResult uninterrupted = exact(healthy, TestModels.adam(), 2, 16, 50).build().fit(rdd());

        TrainingResult resumed = exact(dying, TestModels.adam(), 2, 16, 50).checkpointDir(dir.resolve("ckpt"))
                .checkpointEvery(10).build().fit(rdd());
        assertEquals(1, resumed.stageAttempt(), "Spark retried the barrier stage once");
        assertEquals(20, resumed.firstStep(), "the retry resumed from the checkpoint of step 20");
        assertEquals(50, resumed.steps());
        assertSameBits(uninterrupted.model(), resumed.model());
        assertArrayEquals(java.util.Arrays.copyOfRange(uninterrupted.losses(), 20, 50), resumed.losses(), 0.0);
        // The optimizer state came back with it: Adam's moments are the same bits too.
        Map<String, Tensor> a = uninterrupted.optimizer().stateDict();
        Map<String, Tensor> b = resumed.optimizer().stateDict();
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) {
            assertArrayEquals(a.get(k).toDoubleArray(), b.get(k).toDoubleArray(), 0.0, k);
        }
    }

    @Test
    void aLaterFitContinuesFromTheCheckpointDirectory(@TempDir Path dir) {
        TestModels.Mlp factory = TestModels.Mlp.plain(DType.FLOAT64);
        TrainingResult straight = exact(factory, TestModels.sgdMomentum(), 2, 16, 30).build().fit(rdd());
        TrainingResult firstPart = exact(factory, TestModels.sgdMomentum(), 2, 16, 12).checkpointDir(dir).build()
                .fit(rdd());
        assertEquals(0, firstPart.firstStep());
        TrainingResult secondPart = exact(factory, TestModels.sgdMomentum(), 2, 16, 30).checkpointDir(dir).build()
                .fit(rdd());
        assertEquals(12, secondPart.firstStep());
        assertSameBits(straight.model(), secondPart.model());
    }

    @Test
    void dataFramesAndIdxFilesFeedTheTrainer(@TempDir Path dir) throws Exception {
        // 60 images of 3x4 pixels and their labels, as IDX files (the images gzip-compressed).
        byte[] pixels = new byte[60 * 12];
        byte[] labels = new byte[60];
        for (int i = 0; i < 60; i++) {
            Example e = DATA.get(i);
            labels[i] = (byte) e.label();
            for (int j = 0; j < 12; j++) {
                pixels[i * 12 + j] = (byte) Math.max(0, Math.min(255, Math.round(128 + 40 * e.features()[j])));
            }
        }
        Path images = dir.resolve("images-idx3-ubyte.gz");
        Path labelFile = dir.resolve("labels-idx1-ubyte");
        Idx.write(images, new IdxArray(Idx.ElementType.UNSIGNED_BYTE, dev.adjoint.Shape.of(60, 3, 4), pixels), true);
        Idx.write(labelFile, new IdxArray(Idx.ElementType.UNSIGNED_BYTE, dev.adjoint.Shape.of(60), labels), false);

        var spark = LocalSpark.session();
        JavaRDD<Example> examples = IdxData.examples(spark, images, labelFile, 1 / 255.0, 2);
        List<Example> read = examples.collect();
        assertEquals(60, read.size());
        assertEquals(DATA.get(7).label(), read.get(7).label());
        assertEquals((pixels[7 * 12 + 5] & 0xff) / 255f, read.get(7).features()[5], 1e-7);

        TestModels.Mlp factory = TestModels.Mlp.plain(DType.FLOAT32);
        TrainingResult fromRdd = exact(factory, TestModels.adam(), 2, 8, 6).build().fit(examples);
        TrainingResult fromFrame = exact(factory, TestModels.adam(), 2, 8, 6).build()
                .fit(IdxData.dataset(spark, images, labelFile, 1 / 255.0, 2));
        assertSameBits(fromRdd.model(), fromFrame.model());
    }

    @Test
    void misconfigurationsAreReportedBeforeTraining() {
        IllegalArgumentException uneven = assertThrows(IllegalArgumentException.class,
                () -> trainer(TestModels.Mlp.plain(DType.FLOAT32), TestModels.adam(), 3, 16, 5).build().fit(rdd()));
        assertTrue(uneven.getMessage().contains("global batch (16) must split evenly over 3 replicas"),
                uneven.getMessage());
        assertThrows(IllegalStateException.class,
                () -> SparkTrainer.builder(TestModels.Mlp.plain(DType.FLOAT32), TestModels.adam()).steps(3).build());
        // More examples per micro-batch than a shard holds: the replicas find it together and the driver
        // reports it (no retry: it would fail the same way).
        IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class,
                () -> trainer(TestModels.Mlp.plain(DType.FLOAT32), TestModels.adam(), 2, 400, 5).build().fit(rdd()));
        assertTrue(String.valueOf(tooBig.getMessage()).contains("fewer than one micro-batch"), tooBig.getMessage());
    }
}
