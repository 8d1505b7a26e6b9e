package dev.adjoint.spark.collective;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** BarrierTaskContext.allGather for ranks that are threads of one JVM. */
final class InProcessGather {
    private final int size;
    private final CyclicBarrier arrived;
    private final CyclicBarrier read;
    private final String[] slots;

    InProcessGather(int size) {
        this.size = size;
        this.arrived = new CyclicBarrier(size);
        this.read = new CyclicBarrier(size);
        this.slots = new String[size];
    }

    StringAllGather forRank(int rank) {
        return own -> {
            try {
                slots[rank] = own;
                arrived.await(60, TimeUnit.SECONDS);
                String[] all = slots.clone();
                read.await(60, TimeUnit.SECONDS);
                return all;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("allGather interrupted");
            } catch (BrokenBarrierException | TimeoutException e) {
                throw new IOException("allGather: a rank did not arrive", e);
            }
        };
    }

    int size() {
        return size;
    }
}
