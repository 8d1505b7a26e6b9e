package dev.adjoint.nn.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointTest {
    private static final Backend SCALAR = Backends.get("scalar");
    private static final TensorFactory ON = Tensor.on(SCALAR);

    @TempDir
    Path dir;

    /** Values whose bits a lossy path would change: signed zero, NaN payloads, subnormals, extremes. */
    private static Map<String, Tensor> model() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("0.weight", ON.fromArray(new float[] {1.5f, -0.0f, Float.MIN_VALUE, Float.MAX_VALUE,
                Float.intBitsToFloat(0x7fc00123), Float.NEGATIVE_INFINITY}, 2, 3));
        m.put("0.bias", ON.fromArray(new float[] {0.1f, -0.2f}, 2));
        m.put("2.weight", ON.fromArray(new double[] {Math.PI, -0.0, Double.MIN_VALUE,
                Double.longBitsToDouble(0x7ff8000000000abcL)}, 2, 1, 2));
        m.put("empty", ON.zeros(DType.FLOAT32, 0, 3));
        return m;
    }

    private static Map<String, Tensor> optimizer() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("step", ON.scalar(7, DType.FLOAT64));
        m.put("state.0.weight.exp_avg", ON.fromArray(new float[] {1e-30f, 2, 3, 4, 5, 6}, 2, 3));
        m.put("indices", ON.fromArray(new long[] {Long.MIN_VALUE, -1, 0, Long.MAX_VALUE}, 4));
        return m;
    }

    private static void assertBitExact(Map<String, Tensor> expected, Map<String, Tensor> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String k : expected.keySet()) {
            Tensor e = expected.get(k);
            Tensor a = actual.get(k);
            assertEquals(e.dtype(), a.dtype(), k);
            assertArrayEquals(e.shape().toArray(), a.shape().toArray(), k);
            switch (e.dtype()) {
                case FLOAT32 -> {
                    float[] x = e.toFloatArray();
                    float[] y = a.toFloatArray();
                    for (int i = 0; i < x.length; i++) {
                        assertEquals(Float.floatToRawIntBits(x[i]), Float.floatToRawIntBits(y[i]), k + "[" + i + "]");
                    }
                }
                case FLOAT64 -> {
                    double[] x = e.toDoubleArray();
                    double[] y = a.toDoubleArray();
                    for (int i = 0; i < x.length; i++) {
                        assertEquals(Double.doubleToRawLongBits(x[i]), Double.doubleToRawLongBits(y[i]), k + "[" + i + "]");
                    }
                }
                case INT64 -> assertArrayEquals(e.toLongArray(), a.toLongArray(), k);
            }
        }
    }

    @Test
    void roundTripIsBitExactForEveryDtype() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        Checkpoint.save(file, model(), optimizer());
        Checkpoint.Contents back = Checkpoint.load(file, SCALAR);
        assertBitExact(model(), back.model());
        assertBitExact(optimizer(), back.optimizer());
        assertEquals(0, back.optimizer().get("step").rank(), "0-d scalar state stays 0-d");
        assertEquals(SCALAR, back.model().get("0.weight").backend());
    }

    static List<Backend> availableBackends() {
        return Backends.list().stream().filter(Backends.BackendInfo::available).map(Backends.BackendInfo::backend).toList();
    }

    /** Every available backend writes and reads the same bits, whichever backend wrote the file. */
    @ParameterizedTest
    @MethodSource("availableBackends")
    void roundTripAcrossBackends(Backend from) throws IOException {
        Map<String, Tensor> model = new LinkedHashMap<>();
        model().forEach((k, v) -> model.put(k, v.to(from)));
        Path file = dir.resolve("from-" + from.name() + ".safetensors");
        Checkpoint.save(file, model, Map.of());
        for (Backend to : availableBackends()) {
            Checkpoint.Contents back = Checkpoint.load(file, to);
            assertBitExact(model(), back.model());
            assertEquals(to, back.model().get("0.weight").backend());
        }
    }

    @Test
    void noOptimizerStateIsAllowed() throws IOException {
        Path file = dir.resolve("model-only.safetensors");
        Checkpoint.save(file, model(), null);
        Checkpoint.Contents back = Checkpoint.load(file, SCALAR);
        assertBitExact(model(), back.model());
        assertTrue(back.optimizer().isEmpty());
    }

    @Test
    void stridedTensorsAreSavedInRowMajorOrder() throws IOException {
        Tensor t = ON.fromArray(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).transpose(0, 1);
        Path file = dir.resolve("t.safetensors");
        Checkpoint.save(file, Map.of("t", t), Map.of());
        Tensor back = Checkpoint.load(file, SCALAR).model().get("t");
        assertArrayEquals(new int[] {3, 2}, back.shape().toArray());
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, back.toFloatArray());
    }

    /** The file is plain safetensors: checked by parsing it by hand, without this library's reader. */
    @Test
    void layoutIsSafetensors() throws IOException {
        Path file = dir.resolve("layout.safetensors");
        Checkpoint.save(file, model(), optimizer());
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = buf.getLong(0);
        assertEquals(0, (8 + n) % 8, "data starts 8-byte aligned");
        String json = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        JsonNode header = new ObjectMapper().readTree(json);
        JsonNode meta = header.get("__metadata__");
        assertEquals("adjoint-checkpoint", meta.get("format").textValue());
        assertEquals("1", meta.get("format_version").textValue());
        assertEquals("model.", meta.get("model_prefix").textValue());
        assertEquals("optimizer.", meta.get("optimizer_prefix").textValue());

        JsonNode w = header.get("model.0.weight");
        assertEquals("F32", w.get("dtype").textValue());
        assertEquals("[2,3]", w.get("shape").toString());
        int begin = w.get("data_offsets").get(0).intValue();
        assertEquals(begin + 24, w.get("data_offsets").get(1).intValue());
        assertEquals(1.5f, buf.getFloat((int) (8 + n) + begin));
        assertEquals("F64", header.get("model.2.weight").get("dtype").textValue());
        assertEquals("I64", header.get("optimizer.indices").get("dtype").textValue());
        JsonNode step = header.get("optimizer.step");
        assertEquals("[]", step.get("shape").toString());
        assertEquals(7.0, buf.getDouble((int) (8 + n) + step.get("data_offsets").get(0).intValue()));

        long dataEnd = 0;
        for (var it = header.fields(); it.hasNext();) {
            var e = it.next();
            if (!e.getKey().equals("__metadata__")) {
                dataEnd = Math.max(dataEnd, e.getValue().get("data_offsets").get(1).longValue());
            }
        }
        assertEquals(bytes.length, 8 + n + dataEnd, "no bytes after the last tensor");
    }

    /** Made by the reference safetensors library (tools/make-safetensors-fixture.py). */
    @Test
    void readsAFileWrittenByTheReferenceLibrary() throws Exception {
        Path file = Path.of(getClass().getResource("/safetensors/from-python.safetensors").toURI());
        Checkpoint.Contents c = Checkpoint.load(file, SCALAR);
        assertArrayEquals(new float[] {0, 0.25f, 0.5f, 0.75f, 1, 1.25f}, c.model().get("0.weight").toFloatArray());
        assertArrayEquals(new int[] {2, 3}, c.model().get("0.weight").shape().toArray());
        assertEquals(DType.FLOAT64, c.model().get("0.bias").dtype());
        assertEquals(Double.doubleToRawLongBits(-0.0),
                Double.doubleToRawLongBits(c.model().get("0.bias").toDoubleArray()[1]));
        assertEquals(0, c.optimizer().get("step").rank());
        assertEquals(7.0, c.optimizer().get("step").item());
        assertArrayEquals(new long[] {3, -4, 1L << 40}, c.optimizer().get("index").toLongArray());
    }

    @Test
    void savedFilesGetTheUsualPermissionsNotATempFilesOwnerOnlyOnes() throws IOException {
        if (!dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return;
        }
        Path reference = Files.createFile(dir.resolve("reference"));
        Path file = dir.resolve("ckpt.safetensors");
        Checkpoint.save(file, model(), optimizer());
        assertEquals(Files.getPosixFilePermissions(reference), Files.getPosixFilePermissions(file));
    }

    @Test
    void saveReplacesAtomicallyAndLeavesNoTemporaryFiles() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        Checkpoint.save(file, Map.of("a", ON.fromArray(new float[] {1}, 1)), Map.of());
        Checkpoint.save(file, Map.of("b", ON.fromArray(new float[] {2, 3}, 2)), Map.of());
        assertEquals(Map.of("b", 2), sizes(Checkpoint.load(file, SCALAR).model()));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void aFailedSaveKeepsTheOldFile() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        Checkpoint.save(file, Map.of("a", ON.fromArray(new float[] {1}, 1)), Map.of());
        byte[] before = Files.readAllBytes(file);
        Map<String, Tensor> bad = new LinkedHashMap<>();
        bad.put("a", null);
        assertThrows(CheckpointException.class, () -> Checkpoint.save(file, bad, Map.of()));
        assertArrayEquals(before, Files.readAllBytes(file));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count());
        }
    }

    private static Map<String, Integer> sizes(Map<String, Tensor> m) {
        Map<String, Integer> s = new LinkedHashMap<>();
        m.forEach((k, v) -> s.put(k, v.numel()));
        return s;
    }

    // ---- corrupt files: each names the file and the problem -----------------------------------------

    private static final String META = "\"__metadata__\":{\"format\":\"adjoint-checkpoint\",\"format_version\":\"1\"}";

    /** A file with the given header text and data bytes, built by hand. */
    private Path craft(String headerJson, byte[] data) throws IOException {
        byte[] header = headerJson.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(header.length).put(header).put(data);
        Path file = dir.resolve("crafted.safetensors");
        Files.write(file, buf.array());
        return file;
    }

    private CheckpointException corrupt(Path file, String... expectedFragments) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(file, SCALAR));
        assertTrue(e.getMessage().contains(file.toString()), "message names the file: " + e.getMessage());
        for (String fragment : expectedFragments) {
            assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' should mention '"
                    + fragment + "'");
        }
        assertEquals(file, e.file());
        return e;
    }

    @Test
    void aValidCraftedFileLoads() throws IOException {
        Path file = craft("{" + META + ",\"model.x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                floats(1, 2));
        assertArrayEquals(new float[] {1, 2}, Checkpoint.load(file, SCALAR).model().get("x").toFloatArray());
    }

    @Test
    void truncatedBeforeTheHeaderLength() throws IOException {
        Path file = dir.resolve("short.safetensors");
        Files.write(file, new byte[] {1, 2, 3});
        corrupt(file, "truncated", "3 bytes");
    }

    @Test
    void emptyFile() throws IOException {
        Path file = dir.resolve("empty.safetensors");
        Files.write(file, new byte[0]);
        corrupt(file, "truncated");
    }

    @Test
    void truncatedInsideTheHeader() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        Checkpoint.save(file, model(), optimizer());
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, 40));
        corrupt(file, "truncated", "header");
    }

    @Test
    void truncatedInsideTheData() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        Checkpoint.save(file, model(), optimizer());
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 5));
        corrupt(file, "outside", "truncated");
    }

    @Test
    void absurdHeaderLength() throws IOException {
        Path file = dir.resolve("huge.safetensors");
        Files.write(file, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-5).array());
        corrupt(file, "header length");
    }

    @Test
    void headerIsNotJson() throws IOException {
        corrupt(craft("{\"model.x\": {\"dtype\": \"F32\",", new byte[0]), "not valid JSON");
    }

    @Test
    void headerIsNotAnObject() throws IOException {
        corrupt(craft("[1, 2, 3]", new byte[0]), "must be an object");
    }

    @Test
    void duplicateTensorNames() throws IOException {
        String t = "\"model.x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
        corrupt(craft("{" + META + "," + t + "," + t + "}", floats(1)), "not valid JSON", "model.x");
    }

    @Test
    void offsetsOutsideTheFile() throws IOException {
        corrupt(craft("{" + META + ",\"model.x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
                floats(1, 2)), "model.x", "outside");
    }

    @Test
    void overlappingOffsets() throws IOException {
        corrupt(craft("{" + META + ","
                + "\"model.a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"model.b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", floats(1, 2, 3)),
                "overlaps", "model.a", "model.b");
    }

    @Test
    void aGapBetweenTensors() throws IOException {
        corrupt(craft("{" + META + ","
                + "\"model.a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"model.b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", floats(1, 2, 3)),
                "belong to no tensor", "[4, 8)");
    }

    @Test
    void bytesAfterTheLastTensor() throws IOException {
        corrupt(craft("{" + META + ",\"model.a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                floats(1, 2)), "4 bytes after the last tensor");
    }

    @Test
    void misalignedOffsets() throws IOException {
        corrupt(craft("{" + META + ","
                + "\"model.a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"model.b\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[4,12]}}", new byte[12]),
                "misaligned", "model.b", "8-byte");
    }

    @Test
    void unknownDtype() throws IOException {
        corrupt(craft("{" + META + ",\"model.a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}",
                floats(1)), "unknown or unsupported dtype 'BF16'", "model.a", "F32, F64, I64");
    }

    @Test
    void shapeDoesNotMatchByteCount() throws IOException {
        corrupt(craft("{" + META + ",\"model.a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
                floats(1, 2)), "model.a", "needs 12 bytes", "hold 8");
    }

    @Test
    void invalidShapeEntries() throws IOException {
        corrupt(craft("{" + META + ",\"model.a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,0]}}",
                new byte[0]), "invalid shape");
        corrupt(craft("{" + META + ",\"model.a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,0]}}",
                new byte[0]), "invalid shape");
        corrupt(craft("{" + META + ",\"model.a\":{\"dtype\":\"F32\",\"data_offsets\":[0,0]}}",
                new byte[0]), "no shape");
    }

    @Test
    void invalidOffsetEntries() throws IOException {
        corrupt(craft("{" + META + ",\"model.a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}}",
                floats(1)), "data_offsets");
        corrupt(craft("{" + META + ",\"model.a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}",
                floats(1)), "invalid data_offsets");
        corrupt(craft("{" + META + ",\"model.a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}",
                floats(1)), "unknown field 'x'");
    }

    @Test
    void notAnAdjointCheckpoint() throws IOException {
        corrupt(craft("{\"model.a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", floats(1)),
                "not an Adjoint checkpoint", "missing");
    }

    @Test
    void newerFormatVersion() throws IOException {
        corrupt(craft("{\"__metadata__\":{\"format\":\"adjoint-checkpoint\",\"format_version\":\"2\"}}", new byte[0]),
                "format_version 2");
    }

    @Test
    void metadataValuesMustBeStrings() throws IOException {
        corrupt(craft("{\"__metadata__\":{\"format\":\"adjoint-checkpoint\",\"format_version\":1}}", new byte[0]),
                "must be a string");
    }

    @Test
    void tensorsOfNeitherModelNorOptimizer() throws IOException {
        corrupt(craft("{" + META + ",\"weights\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                floats(1)), "'weights' belongs to neither");
    }

    @Test
    void declaredTensorCountsMustMatch() throws IOException {
        corrupt(craft("{\"__metadata__\":{\"format\":\"adjoint-checkpoint\",\"format_version\":\"1\","
                + "\"model_tensors\":\"2\"},\"model.a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                floats(1)), "model_tensors says 2", "holds 1");
    }

    @Test
    void missingFile() {
        Path file = dir.resolve("nope.safetensors");
        corrupt(file, "no such file");
    }

    private static byte[] floats(float... values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            buf.putFloat(v);
        }
        return buf.array();
    }
}
