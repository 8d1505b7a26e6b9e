package dev.adjoint.nn.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.spi.Backend;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reads and writes named tensors in the safetensors layout: an 8-byte little-endian header length
 * {@code n}, {@code n} bytes of UTF-8 JSON (padded with spaces so the data starts 8-byte aligned),
 * then the tensors' raw little-endian bytes. The header maps each name to
 * {@code {"dtype": "F32"|"F64"|"I64", "shape": [...], "data_offsets": [begin, end]}}, offsets relative
 * to the start of the data; the optional {@code "__metadata__"} maps strings to strings.
 *
 * <p>The reader is strict, like the reference implementation: the data must be covered by the
 * tensors exactly, with no gap, overlap or trailing bytes, and each tensor must start at a multiple
 * of its element size. Every check runs before any tensor is created, and each failure is a
 * {@link CheckpointException} naming the file, the tensor and the numbers involved.
 */
public final class SafeTensors {
    /** The header key of the string-to-string metadata. */
    public static final String METADATA_KEY = "__metadata__";

    /** Larger headers are refused before being read, as a guard against a corrupt length field. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** What a file holds: its metadata and its tensors in the header's order. */
    public record Contents(Map<String, String> metadata, Map<String, Tensor> tensors) {
        public Contents {
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        }
    }

    private SafeTensors() {
    }

    // ---- writing -------------------------------------------------------------------------------------

    /**
     * Writes {@code tensors} and {@code metadata} to {@code file} atomically: the bytes go to a
     * temporary file in the same directory, which is forced to disk and then renamed over
     * {@code file}, so a reader sees either the old file or the complete new one, never a torn write.
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Objects.requireNonNull(file, "file");
        List<Entry> entries = layOut(file, tensors);
        byte[] header = header(entries, metadata);

        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Files.createDirectories(dir);
        Path tmp = createSibling(target);
        try {
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
                writeFully(out, prefix);
                writeFully(out, ByteBuffer.wrap(header));
                for (Entry e : entries) {
                    writeFully(out, encode(e.tensor));
                }
                out.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot write " + target + " atomically: the file system of " + dir
                        + " does not support atomic renames", e);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        syncDirectory(dir);
    }

    /**
     * A new empty file next to {@code target}. Not {@code Files.createTempFile}: that makes the file
     * owner-only (0600), and the rename would hand those permissions to the checkpoint; a plain
     * create gets the usual ones (0666 less the umask).
     */
    private static Path createSibling(Path target) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path candidate = target.resolveSibling("." + target.getFileName() + "."
                    + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                return Files.createFile(candidate);
            } catch (FileAlreadyExistsException e) {
                if (attempt == 10) {
                    throw e;
                }
            }
        }
    }

    /** One tensor's place in the data section. */
    private record Entry(String name, Tensor tensor, String dtype, long begin, long end) {
    }

    /**
     * Orders the tensors so that each starts aligned to its element size without padding (the data
     * section has no holes): 8-byte types first, then 4-byte ones, each group by name. The header
     * itself is padded to 8 bytes, so these offsets are aligned in the file too.
     */
    private static List<Entry> layOut(Path file, Map<String, Tensor> tensors) throws CheckpointException {
        List<Map.Entry<String, Tensor>> sorted = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            if (e.getKey() == null || e.getKey().isEmpty() || e.getKey().equals(METADATA_KEY)) {
                throw new CheckpointException(file, "cannot save a tensor named '" + e.getKey() + "'");
            }
            if (e.getValue() == null) {
                throw new CheckpointException(file, "cannot save tensor '" + e.getKey() + "': it is null");
            }
            sorted.add(e);
        }
        sorted.sort(Comparator.<Map.Entry<String, Tensor>>comparingInt(e -> -e.getValue().dtype().byteSize())
                .thenComparing(Map.Entry::getKey));
        List<Entry> entries = new ArrayList<>(sorted.size());
        long offset = 0;
        for (Map.Entry<String, Tensor> e : sorted) {
            Tensor t = e.getValue();
            long bytes = (long) t.numel() * t.dtype().byteSize();
            entries.add(new Entry(e.getKey(), t, code(t.dtype()), offset, offset + bytes));
            offset += bytes;
        }
        return entries;
    }

    private static byte[] header(List<Entry> entries, Map<String, String> metadata) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = root.putObject(METADATA_KEY);
            metadata.forEach(meta::put);
        }
        for (Entry e : entries) {
            ObjectNode info = root.putObject(e.name);
            info.put("dtype", e.dtype);
            ArrayNode shape = info.putArray("shape");
            for (int d : e.tensor.shape().toArray()) {
                shape.add(d);
            }
            info.putArray("data_offsets").add(e.begin).add(e.end);
        }
        byte[] json = JSON.writeValueAsBytes(root);
        int padded = (json.length + 7) / 8 * 8;
        byte[] header = new byte[padded];
        System.arraycopy(json, 0, header, 0, json.length);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        return header;
    }

    private static ByteBuffer encode(Tensor t) {
        ByteBuffer buf = ByteBuffer.allocate(t.numel() * t.dtype().byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        switch (t.dtype()) {
            case FLOAT32 -> buf.asFloatBuffer().put(t.toFloatArray());
            case FLOAT64 -> buf.asDoubleBuffer().put(t.toDoubleArray());
            case INT64 -> buf.asLongBuffer().put(t.toLongArray());
        }
        return buf;
    }

    private static void writeFully(FileChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            out.write(buf);
        }
    }

    /**
     * Makes the rename itself durable. Opening a directory for reading works on Linux and macOS;
     * where it does not (Windows) the rename is still atomic, only its durability is the OS's.
     */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // best effort, see above
        }
    }

    // ---- reading -------------------------------------------------------------------------------------

    /** Reads {@code file}, creating its tensors on {@code backend}; nothing is created unless all checks pass. */
    public static Contents read(Path file, Backend backend) throws IOException {
        Objects.requireNonNull(backend, "backend");
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = in.size();
            if (size < 8) {
                throw new CheckpointException(file, "truncated: " + size
                        + " bytes, shorter than the 8-byte header length");
            }
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(in, lengthBytes, 0, file);
            long headerLength = lengthBytes.flip().getLong();
            if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
                throw new CheckpointException(file, "corrupt header: header length " + Long.toUnsignedString(headerLength)
                        + " is outside [2, " + MAX_HEADER_BYTES + "]");
            }
            if (headerLength > size - 8) {
                throw new CheckpointException(file, "truncated: the header claims " + headerLength
                        + " bytes but only " + (size - 8) + " follow the length field");
            }
            ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
            readFully(in, headerBytes, 8, file);
            long dataStart = 8 + headerLength;
            long dataLength = size - dataStart;

            Map<String, String> metadata = new LinkedHashMap<>();
            List<Descriptor> descriptors = parseHeader(file, headerBytes.array(), metadata);
            checkOffsets(file, descriptors, dataLength);

            TensorFactory on = Tensor.on(backend);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Descriptor d : descriptors) {
                ByteBuffer data = ByteBuffer.allocate((int) (d.end - d.begin)).order(ByteOrder.LITTLE_ENDIAN);
                readFully(in, data, dataStart + d.begin, file);
                data.flip();
                tensors.put(d.name, decode(on, d, data));
            }
            return new Contents(metadata, tensors);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, "no such file", e);
        }
    }

    /** A tensor as the header describes it, checked on its own but not yet against the others. */
    private record Descriptor(String name, DType dtype, int[] shape, long begin, long end) {
    }

    private static List<Descriptor> parseHeader(Path file, byte[] header, Map<String, String> metadata)
            throws CheckpointException {
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (JsonProcessingException e) {
            throw new CheckpointException(file, "corrupt header: not valid JSON (" + e.getOriginalMessage() + ")", e);
        } catch (IOException e) {
            throw new CheckpointException(file, "corrupt header: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(file, "corrupt header: the JSON must be an object, got "
                    + (root == null ? "nothing" : root.getNodeType()));
        }
        List<Descriptor> descriptors = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            JsonNode node = field.getValue();
            if (name.equals(METADATA_KEY)) {
                if (!node.isObject()) {
                    throw new CheckpointException(file, "corrupt header: " + METADATA_KEY + " must be an object of strings");
                }
                for (Iterator<Map.Entry<String, JsonNode>> m = node.fields(); m.hasNext();) {
                    Map.Entry<String, JsonNode> kv = m.next();
                    if (!kv.getValue().isTextual()) {
                        throw new CheckpointException(file, "corrupt header: " + METADATA_KEY + " value of '"
                                + kv.getKey() + "' must be a string, got " + kv.getValue().getNodeType());
                    }
                    metadata.put(kv.getKey(), kv.getValue().textValue());
                }
                continue;
            }
            descriptors.add(descriptor(file, name, node));
        }
        return descriptors;
    }

    private static Descriptor descriptor(Path file, String name, JsonNode node) throws CheckpointException {
        String where = "corrupt header: tensor '" + name + "'";
        if (!node.isObject()) {
            throw new CheckpointException(file, where + " must be an object, got " + node.getNodeType());
        }
        for (Iterator<String> keys = node.fieldNames(); keys.hasNext();) {
            String key = keys.next();
            if (!key.equals("dtype") && !key.equals("shape") && !key.equals("data_offsets")) {
                throw new CheckpointException(file, where + " has an unknown field '" + key
                        + "' (expected dtype, shape, data_offsets)");
            }
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new CheckpointException(file, where + " has no dtype string");
        }
        DType dtype = switch (dtypeNode.textValue()) {
            case "F32" -> DType.FLOAT32;
            case "F64" -> DType.FLOAT64;
            case "I64" -> DType.INT64;
            default -> throw new CheckpointException(file, where + " has unknown or unsupported dtype '"
                    + dtypeNode.textValue() + "' (supported: F32, F64, I64)");
        };
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw new CheckpointException(file, where + " has no shape array");
        }
        int[] shape = new int[shapeNode.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0 || d.longValue() > Integer.MAX_VALUE) {
                throw new CheckpointException(file, where + " has an invalid shape " + shapeNode
                        + ": dimensions must be integers in [0, " + Integer.MAX_VALUE + "]");
            }
            shape[i] = (int) d.longValue();
            numel *= shape[i];
            if (numel > Integer.MAX_VALUE) {
                throw new CheckpointException(file, where + " has shape " + shapeNode + " with more than "
                        + Integer.MAX_VALUE + " elements");
            }
        }
        JsonNode offsets = node.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2
                || !offsets.get(0).isIntegralNumber() || !offsets.get(1).isIntegralNumber()
                || !offsets.get(0).canConvertToLong() || !offsets.get(1).canConvertToLong()) {
            throw new CheckpointException(file, where + " needs data_offsets [begin, end] of two integers, got " + offsets);
        }
        long begin = offsets.get(0).longValue();
        long end = offsets.get(1).longValue();
        if (begin < 0 || end < begin) {
            throw new CheckpointException(file, where + " has invalid data_offsets [" + begin + ", " + end
                    + "]: need 0 <= begin <= end");
        }
        long expected = numel * dtype.byteSize();
        if (end - begin != expected) {
            throw new CheckpointException(file, where + ": shape " + shapeNode + " of " + dtypeNode.textValue()
                    + " needs " + expected + " bytes but data_offsets [" + begin + ", " + end + "] hold "
                    + (end - begin));
        }
        if (begin % dtype.byteSize() != 0) {
            throw new CheckpointException(file, where + " is misaligned: data_offsets begin " + begin
                    + " is not a multiple of the " + dtype.byteSize() + "-byte element size");
        }
        return new Descriptor(name, dtype, shape, begin, end);
    }

    /** The tensors must tile the data section: no byte outside the file, shared, unused or left over. */
    private static void checkOffsets(Path file, List<Descriptor> descriptors, long dataLength) throws CheckpointException {
        List<Descriptor> byBegin = new ArrayList<>(descriptors);
        byBegin.sort(Comparator.comparingLong(Descriptor::begin).thenComparingLong(Descriptor::end));
        for (Descriptor d : byBegin) {
            if (d.end > dataLength) {
                throw new CheckpointException(file, "tensor '" + d.name + "' has data_offsets [" + d.begin + ", "
                        + d.end + "] outside the " + dataLength + "-byte data section (truncated file?)");
            }
        }
        long covered = 0;
        Descriptor previous = null;
        for (Descriptor d : byBegin) {
            if (d.begin < covered) {
                throw new CheckpointException(file, "corrupt header: tensor '" + d.name + "' [" + d.begin + ", " + d.end
                        + ") overlaps tensor '" + previous.name + "' [" + previous.begin + ", " + previous.end + ")");
            }
            if (d.begin > covered) {
                throw new CheckpointException(file, "corrupt header: bytes [" + covered + ", " + d.begin
                        + ") of the data section belong to no tensor (before '" + d.name + "')");
            }
            covered = d.end;
            previous = d;
        }
        if (covered != dataLength) {
            throw new CheckpointException(file, "corrupt file: " + (dataLength - covered)
                    + " bytes after the last tensor's data (the tensors cover " + covered + " of " + dataLength + ")");
        }
    }

    private static Tensor decode(TensorFactory on, Descriptor d, ByteBuffer data) {
        int n = (int) ((d.end - d.begin) / d.dtype.byteSize());
        return switch (d.dtype) {
            case FLOAT32 -> {
                float[] values = new float[n];
                data.asFloatBuffer().get(values);
                yield on.fromArray(values, d.shape);
            }
            case FLOAT64 -> {
                double[] values = new double[n];
                data.asDoubleBuffer().get(values);
                yield on.fromArray(values, d.shape);
            }
            case INT64 -> {
                long[] values = new long[n];
                data.asLongBuffer().get(values);
                yield on.fromArray(values, d.shape);
            }
        };
    }

    private static void readFully(FileChannel in, ByteBuffer buf, long position, Path file) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = in.read(buf, pos);
            if (n < 0) {
                throw new CheckpointException(file, "truncated: the file ends at byte " + pos);
            }
            pos += n;
        }
    }

    static String code(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> "F32";
            case FLOAT64 -> "F64";
            case INT64 -> "I64";
        };
    }
}
