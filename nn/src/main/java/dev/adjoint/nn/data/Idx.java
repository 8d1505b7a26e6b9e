package dev.adjoint.nn.data;

import dev.adjoint.Shape;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * The IDX format of MNIST and Fashion-MNIST: a 4-byte magic number (two zero bytes, an element-type
 * code, the number of dimensions), each dimension as a big-endian 32-bit integer, then the elements
 * row-major and big-endian. Files may be gzip-compressed; that is detected from the content (the gzip
 * magic bytes {@code 1f 8b}), not from the file name.
 */
public final class Idx {
    private static final int GZIP_MAGIC_0 = 0x1f;
    private static final int GZIP_MAGIC_1 = 0x8b;

    /** Element types by their code in the third magic byte. */
    public enum ElementType {
        UNSIGNED_BYTE(0x08, 1),
        SIGNED_BYTE(0x09, 1),
        SHORT(0x0B, 2),
        INT(0x0C, 4),
        FLOAT(0x0D, 4),
        DOUBLE(0x0E, 8);

        private final int code;
        private final int byteSize;

        ElementType(int code, int byteSize) {
            this.code = code;
            this.byteSize = byteSize;
        }

        public int code() {
            return code;
        }

        public int byteSize() {
            return byteSize;
        }

        static ElementType ofCode(int code) {
            for (ElementType t : values()) {
                if (t.code == code) {
                    return t;
                }
            }
            return null;
        }
    }

    private Idx() {
    }

    /** Reads an IDX file, plain or gzip-compressed. */
    public static IdxArray read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        } catch (NoSuchFileException e) {
            throw new IdxFormatException(file.toString(), "no such file", e);
        }
    }

    /**
     * Reads one IDX array from {@code in}, which must hold nothing else; {@code source} names it in
     * error messages.
     */
    public static IdxArray read(InputStream in, String source) throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(in, 1 << 16);
        buffered.mark(2);
        int b0 = buffered.read();
        int b1 = buffered.read();
        buffered.reset();
        InputStream body = buffered;
        boolean gzip = b0 == GZIP_MAGIC_0 && b1 == GZIP_MAGIC_1;
        if (gzip) {
            try {
                body = new BufferedInputStream(new GZIPInputStream(buffered, 1 << 16), 1 << 16);
            } catch (EOFException e) {
                throw new IdxFormatException(source, "truncated gzip header", e);
            } catch (ZipException e) {
                throw new IdxFormatException(source, "corrupt gzip data: " + e.getMessage(), e);
            }
        }
        try {
            return readBody(body, source);
        } catch (EOFException e) {
            throw new IdxFormatException(source, "truncated: the compressed stream ends early", e);
        } catch (ZipException e) {
            throw new IdxFormatException(source, "corrupt gzip data: " + e.getMessage(), e);
        }
    }

    private static IdxArray readBody(InputStream in, String source) throws IOException {
        byte[] magic = in.readNBytes(4);
        if (magic.length < 4) {
            throw new IdxFormatException(source, "truncated: " + magic.length + " bytes, shorter than the 4-byte magic number");
        }
        if (magic[0] != 0 || magic[1] != 0) {
            throw new IdxFormatException(source, String.format(
                    "not an IDX file: the magic number must start with two zero bytes (or the file be gzip-compressed), got %02x %02x",
                    magic[0] & 0xff, magic[1] & 0xff));
        }
        ElementType type = ElementType.ofCode(magic[2] & 0xff);
        if (type == null) {
            throw new IdxFormatException(source, String.format("unknown element type code 0x%02x (known: 08 ubyte, 09 byte, "
                    + "0b short, 0c int, 0d float, 0e double)", magic[2] & 0xff));
        }
        int rank = magic[3] & 0xff;
        if (rank == 0) {
            throw new IdxFormatException(source, "the magic number declares 0 dimensions");
        }
        byte[] dimBytes = in.readNBytes(4 * rank);
        if (dimBytes.length < 4 * rank) {
            throw new IdxFormatException(source, "truncated: the header declares " + rank + " dimensions but the file ends after "
                    + dimBytes.length / 4);
        }
        int[] dims = new int[rank];
        long numel = 1;
        for (int i = 0; i < rank; i++) {
            dims[i] = ((dimBytes[4 * i] & 0xff) << 24) | ((dimBytes[4 * i + 1] & 0xff) << 16)
                    | ((dimBytes[4 * i + 2] & 0xff) << 8) | (dimBytes[4 * i + 3] & 0xff);
            if (dims[i] < 0) {
                throw new IdxFormatException(source, "dimension " + i + " is " + Integer.toUnsignedString(dims[i])
                        + ", too large");
            }
            numel *= dims[i];
        }
        long byteCount = numel * type.byteSize();
        if (byteCount > Integer.MAX_VALUE - 8) {
            throw new IdxFormatException(source, "shape " + Arrays.toString(dims) + " of " + type
                    + " needs " + byteCount + " bytes, more than one array can hold");
        }
        byte[] data = in.readNBytes((int) byteCount);
        if (data.length < byteCount) {
            throw new IdxFormatException(source, "truncated: shape " + Arrays.toString(dims) + " of " + type
                    + " needs " + byteCount + " data bytes, the file has " + data.length);
        }
        if (in.read() != -1) {
            throw new IdxFormatException(source, "unexpected bytes after the " + byteCount + " data bytes of shape "
                    + Arrays.toString(dims));
        }
        return new IdxArray(type, Shape.of(dims), data);
    }

    /** Writes {@code array} as an IDX file, gzip-compressed when {@code gzip}. */
    public static void write(Path file, IdxArray array, boolean gzip) throws IOException {
        try (OutputStream raw = Files.newOutputStream(file);
             OutputStream maybeGzip = gzip ? new GZIPOutputStream(raw, 1 << 16) : raw;
             DataOutputStream out = new DataOutputStream(new BufferedOutputStream(maybeGzip, 1 << 16))) {
            int[] dims = array.shape().toArray();
            out.write(new byte[] {0, 0, (byte) array.type().code(), (byte) dims.length});
            for (int d : dims) {
                out.writeInt(d); // DataOutputStream is big-endian, as IDX is
            }
            out.write(array.bytes());
        }
    }
}
