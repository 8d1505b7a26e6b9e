package dev.adjoint.spark;

import org.apache.spark.Partitioner;

/** Sends example number {@code i} to partition (replica) {@code i mod n}. */
final class ShardPartitioner extends Partitioner {
    private static final long serialVersionUID = 1L;

    private final int replicas;

    ShardPartitioner(int replicas) {
        this.replicas = replicas;
    }

    @Override
    public int numPartitions() {
        return replicas;
    }

    @Override
    public int getPartition(Object key) {
        return (int) Math.floorMod((Long) key, (long) replicas);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ShardPartitioner p && p.replicas == replicas;
    }

    @Override
    public int hashCode() {
        return replicas;
    }
}
