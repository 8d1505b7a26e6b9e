package dev.adjoint.spark.collective;

import java.io.IOException;

/**
 * Every rank offers a string and receives everyone's, in rank order: {@code BarrierTaskContext.allGather}
 * in a Spark barrier stage. The ring exchanges its addresses through it; {@link SparkAllGatherReduce}
 * sends whole vectors through it.
 */
@FunctionalInterface
public interface StringAllGather {
    String[] allGather(String own) throws IOException;
}
