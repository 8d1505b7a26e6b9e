package dev.adjoint.spark.collective;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayDeque;

/**
 * A chunked all-reduce over TCP around a ring of ranks: rank {@code r} holds one connection to its
 * successor {@code r + 1} (it only writes there) and one from its predecessor {@code r - 1} (it only
 * reads there), wired through a {@link StringAllGather}.
 *
 * <h2>Why the sum runs from rank 0, not around the ring</h2>
 * The textbook ring all-reduce (reduce-scatter, then all-gather) starts chunk {@code c}'s partial sum
 * at rank {@code c}, so chunk 0 is summed as {@code g0 + g1 + ...}, chunk 1 as {@code g1 + g2 + ... + g0},
 * and so on: the rounding of an element depends on which chunk it falls in, i.e. on the chunk size
 * and the number of ranks. Here every chunk's partial sum starts at rank 0 and travels
 * {@code 0 -> 1 -> ... -> n-1}, each rank adding its own elements to what it received, so every element
 * is summed {@code ((g0 + g1) + g2) + ...} (canonical order, as {@link SparkAllGatherReduce} and a
 * plain loop over ranks). Rank {@code n-1} completes the sum (and divides by {@code n} for a mean) and
 * the finished chunk continues around the ring, {@code n-1 -> 0 -> 1 -> ... -> n-2}, each rank storing
 * and forwarding it: the bits of every element are computed once, on one rank, and copied to the
 * others, so all ranks end bit-identical.
 *
 * <p>Chunks are pipelined: rank 1 adds chunk {@code k} while rank 0 sends chunk {@code k + 1}, and the
 * finished chunks flow back while later ones are still being summed. A link carries the vector once
 * for the sum and once for the result: with two ranks that is what a textbook ring moves (each link
 * carries the whole vector once), with {@code n > 2} the links {@code 0 -> 1}, ..., {@code n-3 -> n-2}
 * carry it twice, against {@code 2 (n-1) / n} times for a textbook ring (1.5x the traffic at
 * {@code n = 3}, approaching 1x as {@code n} grows): the price of results that do not depend on the
 * chunking.
 *
 * <p>Both connections are non-blocking and served by the calling thread from one selector: a message
 * is queued, and the queue is written whenever the socket takes more, also while this rank waits to
 * read. So a rank never blocks on a write while its predecessor waits for it to read (which could
 * close a cycle of full socket buffers around the ring), and no thread hand-off sits between a
 * message arriving and the next one leaving. A call waits at most the configured timeout without
 * progress; a peer that closes its connection (its task failed, its executor died) fails this rank's
 * call at once with a {@link CollectiveException}, and closing this rank's connections passes the
 * failure on around the ring.
 */
public final class RingAllReduce implements AllReduce {
    private static final int MAGIC = 0x41444a52; // "ADJR"
    /** Kind, call sequence number, chunk index, payload bytes. */
    private static final int HEADER_BYTES = 16;
    private static final int PARTIAL = 1;
    private static final int FINAL = 2;
    private static final int BROADCAST = 3;

    private final int rank;
    private final int size;
    private final Options options;
    private final SocketChannel toNext;
    private final SocketChannel fromPrevious;
    private final Selector selector;
    private final SelectionKey writeKey;
    /** Messages (slices of {@link #staging}) not yet fully written to the successor, in order. */
    private final ArrayDeque<ByteBuffer> unsent = new ArrayDeque<>();
    private ByteBuffer staging = ByteBuffer.allocateDirect(0);
    private ByteBuffer incoming = ByteBuffer.allocateDirect(0);
    private int sequence;
    private volatile boolean closed;

    /**
     * How a ring is wired and paced.
     *
     * @param host       the address this rank advertises to the others (it listens on all interfaces)
     * @param chunkBytes bytes per message, or 0 to choose per call (see {@link #chunkElements})
     * @param timeout    how long a connect, accept or read may wait without progress
     * @param runId      identifies one attempt of one training run; a connection from another is refused
     */
    public record Options(String host, int chunkBytes, Duration timeout, long runId) {
        public Options {
            if (chunkBytes < 0) {
                throw new IllegalArgumentException("RingAllReduce: chunkBytes must be >= 0 (0 = automatic), got "
                        + chunkBytes);
            }
        }
    }

    private RingAllReduce(int rank, int size, Options options, SocketChannel toNext, SocketChannel fromPrevious)
            throws IOException {
        this.rank = rank;
        this.size = size;
        this.options = options;
        this.toNext = toNext;
        this.fromPrevious = fromPrevious;
        if (size > 1) {
            toNext.configureBlocking(false);
            fromPrevious.configureBlocking(false);
            selector = Selector.open();
            fromPrevious.register(selector, SelectionKey.OP_READ);
            writeKey = toNext.register(selector, 0);
        } else {
            selector = null;
            writeKey = null;
        }
    }

    /**
     * Wires rank {@code rank} of {@code size} into the ring: listens on an ephemeral port, exchanges
     * {@code host:port} with the others, connects to the successor and accepts the predecessor.
     */
    public static RingAllReduce connect(int rank, int size, StringAllGather exchange, Options options)
            throws IOException {
        try (Listener listener = listen(options)) {
            return listener.connect(rank, size, exchange.allGather(listener.address()));
        }
    }

    /**
     * The first half of {@link #connect}, for a caller that exchanges the address together with other
     * things (each exchange through Spark's allGather costs about a second).
     */
    public static Listener listen(Options options) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            server.bind(new InetSocketAddress(0));
        } catch (IOException e) {
            server.close();
            throw e;
        }
        return new Listener(server, options);
    }

    /** A bound, listening end of a ring to be: hand out {@link #address()}, then {@link #connect}. */
    public static final class Listener implements AutoCloseable {
        private final ServerSocketChannel server;
        private final Options options;

        private Listener(ServerSocketChannel server, Options options) {
            this.server = server;
            this.options = options;
        }

        /** {@code host:port} for the others to connect to. */
        public String address() {
            return options.host() + ":" + server.socket().getLocalPort();
        }

        /** Connects to rank {@code rank + 1} and accepts rank {@code rank - 1}; {@code addresses} in rank order. */
        public RingAllReduce connect(int rank, int size, String[] addresses) throws IOException {
            if (size < 1 || rank < 0 || rank >= size) {
                throw new IllegalArgumentException("RingAllReduce: rank " + rank + " of " + size);
            }
            if (addresses.length != size) {
                throw new CollectiveException("RingAllReduce: rank " + rank + " expected " + size + " addresses, got "
                        + addresses.length);
            }
            if (size == 1) {
                return new RingAllReduce(0, 1, options, null, null);
            }
            int next = (rank + 1) % size;
            SocketChannel toNext = connectTo(addresses[next], next, rank, options);
            SocketChannel fromPrevious = null;
            try {
                fromPrevious = acceptFrom(server, (rank + size - 1) % size, rank, options);
                return new RingAllReduce(rank, size, options, toNext, fromPrevious);
            } catch (IOException | RuntimeException e) {
                toNext.close();
                if (fromPrevious != null) {
                    fromPrevious.close();
                }
                throw e;
            }
        }

        /** Stops listening; connections already made stay open. */
        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    private static SocketChannel connectTo(String address, int peer, int rank, Options options) throws IOException {
        int colon = address.lastIndexOf(':');
        InetSocketAddress target = new InetSocketAddress(address.substring(0, colon),
                Integer.parseInt(address.substring(colon + 1)));
        long deadline = System.nanoTime() + options.timeout().toNanos();
        IOException last;
        do {
            SocketChannel channel = SocketChannel.open();
            try {
                channel.socket().connect(target, (int) Math.max(1, Math.min(Integer.MAX_VALUE,
                        options.timeout().toMillis())));
                channel.socket().setTcpNoDelay(true);
                ByteBuffer hello = ByteBuffer.allocate(16);
                hello.putInt(MAGIC).putLong(options.runId()).putInt(rank).flip();
                while (hello.hasRemaining()) {
                    channel.write(hello);
                }
                return channel;
            } catch (IOException e) {
                channel.close();
                last = e;
            }
            sleepBeforeRetry();
        } while (System.nanoTime() < deadline);
        throw new CollectiveException("RingAllReduce: rank " + rank + " could not connect to rank " + peer + " at "
                + address + " within " + options.timeout(), last);
    }

    private static void sleepBeforeRetry() throws InterruptedIOException {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("RingAllReduce: interrupted while connecting");
        }
    }

    /** Accepts connections until one says it is {@code peer} of this run; others are closed. */
    private static SocketChannel acceptFrom(ServerSocketChannel server, int peer, int rank, Options options)
            throws IOException {
        long deadline = System.nanoTime() + options.timeout().toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new CollectiveException("RingAllReduce: rank " + rank + " waited " + options.timeout()
                        + " for rank " + peer + " to connect");
            }
            server.socket().setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, left / 1_000_000)));
            SocketChannel channel;
            try {
                channel = server.socket().accept().getChannel();
            } catch (SocketTimeoutException e) {
                continue;
            }
            try {
                channel.socket().setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE,
                        options.timeout().toMillis())));
                byte[] hello = channel.socket().getInputStream().readNBytes(16);
                ByteBuffer b = ByteBuffer.wrap(hello);
                if (hello.length == 16 && b.getInt() == MAGIC && b.getLong() == options.runId() && b.getInt() == peer) {
                    return channel;
                }
            } catch (IOException e) {
                // Not our peer (a stray or a task of an earlier attempt): refuse it and keep waiting.
            }
            channel.close();
        }
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public String name() {
        return "ring";
    }

    /**
     * Elements per message: about a quarter of the vector's share per rank, so the pipeline fill
     * ({@code n - 1} chunks before the last rank starts) costs at most about a quarter of the transfer,
     * clamped to [32 KiB, 1 MiB] so that per-message costs (a header, a wake-up) stay small against
     * the copy and one message stays well inside a socket buffer. docs/benchmarks.md has the
     * bandwidth at each message size.
     */
    int chunkElements(ReduceBuffer buffer) {
        int bytes = options.chunkBytes();
        if (bytes == 0) {
            long share = (long) buffer.length() * buffer.elementBytes() / (4L * size);
            bytes = (int) Math.max(32 << 10, Math.min(1 << 20, share));
        }
        return Math.max(1, bytes / buffer.elementBytes());
    }

    @Override
    public void allReduce(ReduceBuffer buffer, boolean average) throws IOException {
        checkOpen();
        if (size == 1 || buffer.length() == 0) {
            return;
        }
        int call = ++sequence;
        int perChunk = chunkElements(buffer);
        int chunks = (buffer.length() + perChunk - 1) / perChunk;
        prepare(buffer, perChunk, chunks);
        int last = size - 1;
        boolean forwardsFinal = rank != last && rank != last - 1;
        if (rank == 0) {
            for (int k = 0; k < chunks; k++) {
                send(PARTIAL, call, k, buffer, perChunk, chunks);
            }
        } else {
            for (int k = 0; k < chunks; k++) {
                receive(PARTIAL, call, k, buffer, perChunk, true);
                if (rank == last) {
                    if (average) {
                        buffer.divide(from(k, perChunk), count(k, perChunk, buffer), size);
                    }
                    send(FINAL, call, k, buffer, perChunk, chunks);
                } else {
                    send(PARTIAL, call, k, buffer, perChunk, chunks);
                }
            }
        }
        if (rank != last) {
            for (int k = 0; k < chunks; k++) {
                receive(FINAL, call, k, buffer, perChunk, false);
                if (forwardsFinal) {
                    send(FINAL, call, k, buffer, perChunk, chunks);
                }
            }
        }
        flushAll();
    }

    @Override
    public void broadcastFromRank0(ReduceBuffer buffer) throws IOException {
        checkOpen();
        if (size == 1 || buffer.length() == 0) {
            return;
        }
        int call = ++sequence;
        int perChunk = chunkElements(buffer);
        int chunks = (buffer.length() + perChunk - 1) / perChunk;
        prepare(buffer, perChunk, chunks);
        for (int k = 0; k < chunks; k++) {
            if (rank != 0) {
                receive(BROADCAST, call, k, buffer, perChunk, false);
            }
            if (rank != size - 1) {
                send(BROADCAST, call, k, buffer, perChunk, chunks);
            }
        }
        flushAll();
    }

    private static int from(int chunk, int perChunk) {
        return chunk * perChunk;
    }

    private static int count(int chunk, int perChunk, ReduceBuffer buffer) {
        return Math.min(perChunk, buffer.length() - chunk * perChunk);
    }

    /**
     * Sizes the staging area: each message is encoded into a slot of its own (partials in the first
     * half, finished chunks in the second), because a partial sum may still be queued when this rank
     * overwrites the same elements with the finished sum.
     */
    private void prepare(ReduceBuffer buffer, int perChunk, int chunks) {
        int slot = HEADER_BYTES + perChunk * buffer.elementBytes();
        long needed = 2L * chunks * slot;
        if (needed > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("RingAllReduce: a vector of " + buffer.length() + " " + buffer.dtype()
                    + " elements needs a staging area over 2 GiB; split it into several calls");
        }
        if (staging.capacity() < needed) {
            staging = ByteBuffer.allocateDirect((int) needed).order(ByteOrder.LITTLE_ENDIAN);
        }
        if (incoming.capacity() < slot) {
            incoming = ByteBuffer.allocateDirect(slot).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    private void send(int kind, int call, int chunk, ReduceBuffer buffer, int perChunk, int chunks) {
        int slot = HEADER_BYTES + perChunk * buffer.elementBytes();
        int offset = ((kind == FINAL ? chunks : 0) + chunk) * slot;
        int count = count(chunk, perChunk, buffer);
        ByteBuffer message = staging.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        message.limit(offset + HEADER_BYTES + count * buffer.elementBytes()).position(offset);
        message = message.slice().order(ByteOrder.LITTLE_ENDIAN);
        message.putInt(kind).putInt(call).putInt(chunk).putInt(count * buffer.elementBytes());
        buffer.encode(from(chunk, perChunk), count, message);
        message.flip();
        unsent.add(message);
    }

    private void receive(int kind, int call, int chunk, ReduceBuffer buffer, int perChunk, boolean add)
            throws IOException {
        int count = count(chunk, perChunk, buffer);
        int payload = count * buffer.elementBytes();
        ByteBuffer in = incoming.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        in.clear().limit(HEADER_BYTES);
        readFully(in);
        in.flip();
        int gotKind = in.getInt();
        int gotCall = in.getInt();
        int gotChunk = in.getInt();
        int gotBytes = in.getInt();
        if (gotKind != kind || gotCall != call || gotChunk != chunk || gotBytes != payload) {
            throw fail(new CollectiveException("RingAllReduce: rank " + rank + " expected " + kindName(kind)
                    + " chunk " + chunk + " (" + payload + " bytes) of call " + call + " from rank " + previous()
                    + ", got " + kindName(gotKind) + " chunk " + gotChunk + " (" + gotBytes + " bytes) of call "
                    + gotCall + ": the ranks called different collectives or different buffer sizes"));
        }
        in.clear().limit(payload);
        readFully(in);
        in.flip();
        if (add) {
            buffer.addReceived(in, from(chunk, perChunk), count);
        } else {
            buffer.copyReceived(in, from(chunk, perChunk), count);
        }
    }

    private static String kindName(int kind) {
        return switch (kind) {
            case PARTIAL -> "a partial sum";
            case FINAL -> "a finished sum";
            case BROADCAST -> "a broadcast";
            default -> "message kind " + kind;
        };
    }

    private int previous() {
        return (rank + size - 1) % size;
    }

    private int next() {
        return (rank + 1) % size;
    }

    /**
     * Reads until {@code buffer} is full, writing queued messages whenever the successor takes them;
     * fails if neither makes progress for the timeout.
     */
    private void readFully(ByteBuffer buffer) throws IOException {
        long timeoutNanos = options.timeout().toNanos();
        long deadline = System.nanoTime() + timeoutNanos;
        while (buffer.hasRemaining()) {
            boolean progress = writeSome();
            int n;
            try {
                n = fromPrevious.read(buffer);
            } catch (IOException e) {
                throw fail(lost(e));
            }
            if (n < 0) {
                throw fail(lost(null));
            }
            if (n > 0 || progress) {
                deadline = System.nanoTime() + timeoutNanos;
                continue;
            }
            await(deadline, "received nothing from rank " + previous());
        }
    }

    /** Writes every queued message; fails if the successor takes nothing for the timeout. */
    private void flushAll() throws IOException {
        long timeoutNanos = options.timeout().toNanos();
        long deadline = System.nanoTime() + timeoutNanos;
        while (!unsent.isEmpty()) {
            if (writeSome()) {
                deadline = System.nanoTime() + timeoutNanos;
            } else {
                await(deadline, "could not send to rank " + next());
            }
        }
        writeKey.interestOps(0);
    }

    /** Writes queued messages until the socket takes no more; true if it took anything. */
    private boolean writeSome() throws IOException {
        boolean wrote = false;
        while (!unsent.isEmpty()) {
            ByteBuffer head = unsent.peek();
            try {
                if (toNext.write(head) > 0) {
                    wrote = true;
                }
            } catch (IOException e) {
                throw fail(new CollectiveException("RingAllReduce: rank " + rank + " lost its connection to rank "
                        + next() + " (that task failed or was killed)", e));
            }
            if (head.hasRemaining()) {
                break;
            }
            unsent.poll();
        }
        // Wake on writability only while something waits to be written.
        writeKey.interestOps(unsent.isEmpty() ? 0 : SelectionKey.OP_WRITE);
        return wrote;
    }

    /** Sleeps in the selector until a socket is ready or {@code deadline}; an interrupt fails the call. */
    private void await(long deadline, String what) throws IOException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw fail(new CollectiveException("RingAllReduce: rank " + rank + " " + what + " for " + options.timeout()));
        }
        selector.select(Math.max(1, left / 1_000_000));
        selector.selectedKeys().clear();
        if (Thread.interrupted()) {
            Thread.currentThread().interrupt();
            throw fail(new InterruptedIOException("RingAllReduce: rank " + rank + " interrupted"));
        }
    }

    private CollectiveException lost(IOException cause) {
        if (closed) {
            return new CollectiveException("RingAllReduce: rank " + rank + " is closed", cause);
        }
        return new CollectiveException("RingAllReduce: rank " + rank + " lost its connection from rank "
                + previous() + " (that task failed or was killed)", cause);
    }

    private <E extends IOException> E fail(E e) {
        close();
        return e;
    }

    private void checkOpen() throws CollectiveException {
        if (closed) {
            throw new CollectiveException("RingAllReduce: rank " + rank + " is closed");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        unsent.clear();
        closeQuietly(toNext);
        closeQuietly(fromPrevious);
        closeQuietly(selector);
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // Closing is best effort: the connection is being abandoned either way.
        }
    }
}
