package dev.adjoint.nn.data;

import dev.adjoint.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdxTest {
    @TempDir
    Path dir;

    private static IdxArray images() {
        byte[] data = new byte[2 * 3 * 2];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 20); // runs past 127: unsigned bytes must not read as negative
        }
        return new IdxArray(Idx.ElementType.UNSIGNED_BYTE, Shape.of(2, 3, 2), data);
    }

    @Test
    void plainAndGzipRoundTrip() throws IOException {
        for (boolean gzip : new boolean[] {false, true}) {
            Path file = dir.resolve("a" + gzip);
            Idx.write(file, images(), gzip);
            IdxArray back = Idx.read(file);
            assertEquals(images(), back);
            assertEquals(220.0, back.get(11));
        }
    }

    @Test
    void gzipIsDetectedFromTheContentNotTheName() throws IOException {
        Path gzNamedPlain = dir.resolve("plain.gz");
        Idx.write(gzNamedPlain, images(), false);
        Path plainNamedGz = dir.resolve("images-idx3-ubyte");
        Idx.write(plainNamedGz, images(), true);
        assertEquals(images(), Idx.read(gzNamedPlain));
        assertEquals(images(), Idx.read(plainNamedGz));
        assertEquals(0x1f, Files.readAllBytes(plainNamedGz)[0] & 0xff);
    }

    @Test
    void headerIsBigEndian() throws IOException {
        Path file = dir.resolve("be");
        Idx.write(file, images(), false);
        byte[] bytes = Files.readAllBytes(file);
        assertArrayEquals(new byte[] {0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 2}, Arrays.copyOf(bytes, 16));
    }

    @Test
    void otherElementTypes() throws IOException {
        ByteBuffer ints = ByteBuffer.allocate(12).putInt(-7).putInt(300000).putInt(5);
        IdxArray a = new IdxArray(Idx.ElementType.INT, Shape.of(3), ints.array());
        Path file = dir.resolve("ints");
        Idx.write(file, a, false);
        assertArrayEquals(new long[] {-7, 300000, 5}, Idx.read(file).toLongArray());
        ByteBuffer floats = ByteBuffer.allocate(8).putFloat(0.5f).putFloat(-2f);
        IdxArray f = new IdxArray(Idx.ElementType.FLOAT, Shape.of(2), floats.array());
        assertArrayEquals(new float[] {1f, -4f}, f.toFloatArray(2.0));
        assertThrows(IllegalStateException.class, f::toLongArray);
    }

    @Test
    void scaledUnsignedBytes() {
        float[] x = images().toFloatArray(1 / 255.0);
        assertEquals(0f, x[0]);
        assertEquals((float) (220 / 255.0), x[11]);
    }

    private IdxFormatException bad(byte[] content, String... fragments) throws IOException {
        Path file = dir.resolve("bad");
        Files.write(file, content);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + e.getMessage() + "' should mention '" + f + "'");
        }
        return e;
    }

    private byte[] valid() throws IOException {
        Path file = dir.resolve("valid");
        Idx.write(file, images(), false);
        return Files.readAllBytes(file);
    }

    private static byte[] gzip(byte[] content) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(content);
        }
        return out.toByteArray();
    }

    @Test
    void badMagic() throws IOException {
        bad("P5\n28 28\n255\n".getBytes(StandardCharsets.US_ASCII), "not an IDX file", "50 35");
    }

    @Test
    void unknownElementType() throws IOException {
        byte[] b = valid();
        b[2] = 0x07;
        bad(b, "unknown element type code 0x07");
    }

    @Test
    void zeroDimensions() throws IOException {
        bad(new byte[] {0, 0, 8, 0}, "0 dimensions");
    }

    @Test
    void truncatedMagic() throws IOException {
        bad(new byte[] {0, 0}, "truncated", "magic");
        bad(new byte[0], "truncated");
    }

    @Test
    void truncatedDimensions() throws IOException {
        bad(Arrays.copyOf(valid(), 10), "truncated", "3 dimensions");
    }

    @Test
    void truncatedData() throws IOException {
        byte[] b = valid();
        bad(Arrays.copyOf(b, b.length - 1), "truncated", "needs 12 data bytes", "has 11");
    }

    @Test
    void trailingBytes() throws IOException {
        byte[] b = valid();
        bad(Arrays.copyOf(b, b.length + 3), "unexpected bytes after");
    }

    @Test
    void truncatedGzipStream() throws IOException {
        byte[] gz = gzip(valid());
        bad(Arrays.copyOf(gz, gz.length - 12), "truncated");
        bad(Arrays.copyOf(gz, 5), "truncated");
    }

    @Test
    void gzipOfSomethingElse() throws IOException {
        bad(gzip("hello world".getBytes(StandardCharsets.US_ASCII)), "not an IDX file");
    }

    @Test
    void corruptGzipData() throws IOException {
        byte[] gz = gzip(valid());
        for (int i = 12; i < gz.length - 8; i++) {
            gz[i] = (byte) 0xff;
        }
        bad(gz, "IDX");
    }

    @Test
    void missingFile() {
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(dir.resolve("none")));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }
}
