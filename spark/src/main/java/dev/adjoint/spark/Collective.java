package dev.adjoint.spark;

/** How the replicas average their gradients. Both sum in rank order and give identical bits. */
public enum Collective {
    /**
     * {@link dev.adjoint.spark.collective.RingAllReduce}: a chunked, pipelined ring over TCP between the
     * tasks, addresses exchanged through Spark's allGather. Traffic per task does not grow with the
     * number of replicas; the default.
     */
    RING,
    /**
     * {@link dev.adjoint.spark.collective.SparkAllGatherReduce}: whole vectors through Spark's own
     * {@code BarrierTaskContext.allGather} and the driver. Needs no ports between executors; for small
     * models only (docs/benchmarks.md has the measured bandwidth of both).
     */
    SPARK_ALLGATHER
}
