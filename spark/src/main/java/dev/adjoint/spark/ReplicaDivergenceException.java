package dev.adjoint.spark;

/**
 * The replicas' parameters stopped being bit-identical: at a hash check their hashes differed. Every
 * replica applies the same averaged gradient with the same optimizer, so this means something on a
 * replica depends on where it runs (a model or optimizer that draws random numbers per replica, a
 * kernel whose result depends on thread timing, different backends or JVMs on different executors).
 * The job fails with it rather than retrying, since a retry would diverge again.
 */
public final class ReplicaDivergenceException extends RuntimeException {
    private final long step;
    private final String[] hashes;

    public ReplicaDivergenceException(long step, String[] hashes) {
        super("SparkTrainer: the replicas' parameters differ after step " + step + " (parameter hash by rank: "
                + String.join(", ", hashes) + "); every replica must compute the same update from the same "
                + "averaged gradient: look for per-replica randomness or backends that differ between executors");
        this.step = step;
        this.hashes = hashes.clone();
    }

    /** The number of steps completed when the hashes were compared. */
    public long step() {
        return step;
    }

    /** Each rank's parameter hash, in rank order. */
    public String[] hashes() {
        return hashes.clone();
    }
}
