package dev.adjoint.spark;

import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import scala.Tuple2;

/**
 * Training examples split into one shard per replica: example number {@code i} (its position in the
 * input, from {@code zipWithIndex}) goes to replica {@code i mod n}. Splitting is a shuffle; hand the
 * same {@code Shards} to several {@link SparkTrainer#fit(Shards)} calls (an epoch at a time, say) and
 * Spark reuses that shuffle's output instead of running it again.
 */
public final class Shards {
    private final JavaPairRDD<Long, Example> numbered;
    private final int replicas;

    private Shards(JavaPairRDD<Long, Example> numbered, int replicas) {
        this.numbered = numbered;
        this.replicas = replicas;
    }

    /**
     * {@code examples} split over {@code replicas} replicas. The examples are numbered in input order
     * (partitions in order, each in order): an input whose order is fixed (a file, a parallelized list,
     * a sorted query) gives the same shards every time, hence repeatable runs and exact resumption.
     */
    public static Shards of(JavaRDD<Example> examples, int replicas) {
        if (replicas < 1) {
            throw new IllegalArgumentException("Shards: replicas must be at least 1, got " + replicas);
        }
        JavaPairRDD<Long, Example> numbered = examples.zipWithIndex().mapToPair(t -> new Tuple2<>(t._2(), t._1()))
                .partitionBy(new ShardPartitioner(replicas));
        return new Shards(numbered, replicas);
    }

    public int replicas() {
        return replicas;
    }

    /** Partition {@code r} holds replica {@code r}'s examples, keyed by their number, in no particular order. */
    JavaPairRDD<Long, Example> byReplica() {
        return numbered;
    }
}
