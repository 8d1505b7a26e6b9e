package dev.adjoint.spark;

import org.apache.spark.BarrierTaskContext;
import scala.Tuple2;
import scala.collection.Iterator;
import scala.runtime.AbstractFunction1;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The body of the barrier stage: one task per replica. It gathers its shard (the examples whose
 * number is its partition id modulo the replica count, which {@link ShardPartitioner} sent it), sorts
 * it by number so that the shard does not depend on the order the shuffle delivered it in, and runs
 * a {@link Replica} whose allGather is the barrier's.
 */
final class ReplicaTask extends AbstractFunction1<Iterator<Tuple2<Object, Example>>, Iterator<ReplicaReport>>
        implements Serializable {
    private static final long serialVersionUID = 1L;

    private final TrainingPlan plan;

    ReplicaTask(TrainingPlan plan) {
        this.plan = plan;
    }

    @Override
    public Iterator<ReplicaReport> apply(Iterator<Tuple2<Object, Example>> rows) {
        BarrierTaskContext context = BarrierTaskContext.get();
        int rank = context.partitionId();
        int replicas = context.getTaskInfos().length;
        List<Tuple2<Object, Example>> shard = new ArrayList<>();
        while (rows.hasNext()) {
            shard.add(rows.next());
        }
        shard.sort(Comparator.comparingLong(t -> (Long) t._1()));
        int width = shard.isEmpty() ? 0 : shard.get(0)._2().features().length;
        for (Tuple2<Object, Example> t : shard) {
            if (t._2().features().length != width) {
                // The replicas compare widths before anything else and report this together (Replica).
                width = -1;
                break;
            }
        }
        float[] features = new float[width < 0 ? 0 : Math.multiplyExact(shard.size(), width)];
        long[] labels = new long[shard.size()];
        for (int i = 0; i < shard.size(); i++) {
            Example e = shard.get(i)._2();
            if (width > 0) {
                System.arraycopy(e.features(), 0, features, i * width, width);
            }
            labels[i] = e.label();
        }
        shard.clear();
        // The executor's address as the scheduler knows it; the ring listens on all interfaces.
        String address = context.getTaskInfos()[rank].address();
        String host = address.contains(":") ? address.substring(0, address.lastIndexOf(':')) : address;
        Replica replica = new Replica(plan, rank, replicas, context.stageAttemptNumber(), host, context::allGather,
                features, labels, width);
        try {
            return scala.jdk.javaapi.CollectionConverters.asScala(List.of(replica.run()).iterator());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
