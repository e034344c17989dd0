package dev.shears.trainer.data;

import dev.shears.common.data.InputShape;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Strict reader of IDX files (the MNIST format), gzipped ({@code .gz}) or not: a big-endian
 * header (magic {@code 0x0000 08 <rank>}: unsigned bytes, then one count per dimension), then
 * the values. Images are {@code [count, rows, columns]} (grey) or {@code [count, channels, rows,
 * columns]}; labels are {@code [count]}. A file must hold exactly what its header announces; memory
 * is taken as values arrive (an uncompressed file's size is checked against its header before
 * anything is read), never on a header's word alone.
 */
final class Idx {

    /** The type byte of unsigned bytes, the only value type MNIST-like data sets use. */
    static final int UBYTE = 0x08;
    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;

    private Idx() {}

    /** The shape of the images an IDX image file holds, read from its header only. */
    static InputShape imageShape(Path file, String shown, String fix) {
        try (DataInputStream in = open(file, shown, fix)) {
            return header(in, file, shown, fix, true).shape;
        } catch (IOException e) {
            throw unreadable(shown, e, fix);
        }
    }

    /**
     * Reads the images of {@code file} into {@code sink} with the labels in {@code labels} (one per
     * image, read before from the file {@code labelsShown}); pixels stay unsigned bytes.
     *
     * @param shown how messages name the file (a path relative to the data root)
     * @throws DatasetException naming the file, what is wrong and {@code fix}
     */
    static InputShape readImages(Path file, String shown, int[] labels, String labelsShown, StoreBuilder sink,
            String fix) {
        try (DataInputStream in = open(file, shown, fix)) {
            Header h = header(in, file, shown, fix, true);
            if (h.count != labels.length) {
                throw new DatasetException(shown + " holds " + h.count + " images but " + labelsShown + " holds "
                        + labels.length + " labels: the two files of a split must have the same count" + fix);
            }
            int size = h.shape.size();
            byte[] image = new byte[size];
            for (int i = 0; i < h.count; i++) {
                int read = in.readNBytes(image, 0, size);
                if (read < size) {
                    throw malformed(shown, "truncated: the header announces " + h.count + " images of " + h.shape
                            + " but the file ends in image " + i, fix);
                }
                sink.add(image, 0, labels[i]);
            }
            trailing(in, shown, h.count + " images", fix);
            return h.shape;
        } catch (EOFException e) {
            throw malformed(shown, "truncated: the gzip stream ends early (" + e.getMessage() + ")", fix);
        } catch (IOException e) {
            throw unreadable(shown, e, fix);
        }
    }

    /**
     * Reads a label file: one class per example, each below {@code classes} (at most 256 for bytes).
     *
     * @throws DatasetException naming the file, the first label out of range and its index, and {@code fix}
     */
    static int[] readLabels(Path file, String shown, int classes, String fix) {
        try (DataInputStream in = open(file, shown, fix)) {
            int magic = readInt(in, shown, "magic number", fix);
            if (magic != LABELS_MAGIC) {
                throw malformed(shown, String.format("magic number 0x%08x, expected 0x%08x (an IDX file of"
                        + " unsigned-byte labels, [count])", magic, LABELS_MAGIC), fix);
            }
            int count = readInt(in, shown, "label count", fix);
            if (count < 0) {
                throw malformed(shown, "label count " + Integer.toUnsignedString(count) + ", expected at most "
                        + Integer.MAX_VALUE, fix);
            }
            checkSize(file, shown, 8, count, 1, "labels", fix);
            int[] labels = new int[Math.min(count, 1 << 16)];
            byte[] block = new byte[1 << 16];
            int n = 0;
            while (n < count) {
                int read = in.readNBytes(block, 0, Math.min(block.length, count - n));
                if (read == 0) {
                    throw malformed(shown, "truncated: the header announces " + count + " labels but the file holds "
                            + n, fix);
                }
                if (n + read > labels.length) {
                    labels = Arrays.copyOf(labels, (int) Math.min(count, Math.max(2L * labels.length, n + read)));
                }
                for (int i = 0; i < read; i++) {
                    int label = block[i] & 0xff;
                    if (label >= classes) {
                        throw malformed(shown, "label " + label + " of example " + (n + i) + " is out of range: the"
                                + " data set has " + classes + " classes, [0, " + classes + ")", fix);
                    }
                    labels[n + i] = label;
                }
                n += read;
            }
            trailing(in, shown, count + " labels", fix);
            return labels;
        } catch (EOFException e) {
            throw malformed(shown, "truncated: the gzip stream ends early (" + e.getMessage() + ")", fix);
        } catch (IOException e) {
            throw unreadable(shown, e, fix);
        }
    }

    private record Header(int count, InputShape shape) {
    }

    private static Header header(DataInputStream in, Path file, String shown, String fix, boolean images)
            throws IOException {
        int magic = readInt(in, shown, "magic number", fix);
        int rank = magic & 0xff;
        if ((magic >>> 16) != 0 || ((magic >>> 8) & 0xff) != UBYTE || (rank != 3 && rank != 4)) {
            throw malformed(shown, String.format("magic number 0x%08x, expected 0x%08x or 0x%08x (an IDX file of"
                    + " unsigned-byte images, [count, rows, columns] or [count, channels, rows, columns]; other value"
                    + " types are not read)", magic, IMAGES_MAGIC, IMAGES_MAGIC + 1), fix);
        }
        int count = readInt(in, shown, "image count", fix);
        int[] dims = new int[rank - 1];
        for (int d = 0; d < dims.length; d++) {
            dims[d] = readInt(in, shown, "dimension " + (d + 1), fix);
        }
        int channels = rank == 4 ? dims[0] : 1;
        int rows = dims[dims.length - 2];
        int columns = dims[dims.length - 1];
        InputShape shape;
        try {
            shape = InputShape.image(channels, rows, columns);
        } catch (IllegalArgumentException e) {
            throw malformed(shown, "images of " + channels + "x" + rows + "x" + columns + ": " + e.getMessage(), fix);
        }
        if (count < 0) {
            throw malformed(shown, "image count " + Integer.toUnsignedString(count) + ", expected at most "
                    + Integer.MAX_VALUE, fix);
        }
        checkSize(file, shown, 4L * rank, count, shape.size(), "images of " + shape, fix);
        return new Header(count, shape);
    }

    /** For an uncompressed file, checks before reading that its size is what the header announces. */
    private static void checkSize(Path file, String shown, long headerBytes, int count, int size, String what,
            String fix) throws IOException {
        if (isGzip(file)) {
            return;
        }
        long expected = headerBytes + (long) count * size;
        long actual = Files.size(file);
        if (actual != expected) {
            throw malformed(shown, (actual < expected ? "truncated" : "trailing data") + ": the header announces "
                    + count + " " + what + " (" + expected + " bytes with the header) but the file has " + actual
                    + " bytes", fix);
        }
    }

    private static boolean isGzip(Path file) {
        return file.getFileName().toString().endsWith(".gz");
    }

    private static DataInputStream open(Path file, String shown, String fix) throws IOException {
        InputStream raw;
        try {
            raw = Files.newInputStream(file);
        } catch (NoSuchFileException e) {
            throw new DatasetException(shown + " does not exist" + fix, e);
        }
        if (!isGzip(file)) {
            return new DataInputStream(new BufferedInputStream(raw, 1 << 16));
        }
        try {
            return new DataInputStream(new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16));
        } catch (ZipException | EOFException e) {
            raw.close();
            throw malformed(shown, "no gzip header (" + e.getMessage() + "), expected a gzipped IDX file"
                    + " (or name it without .gz)", fix);
        }
    }

    private static int readInt(DataInputStream in, String shown, String field, String fix) throws IOException {
        try {
            return in.readInt();
        } catch (EOFException e) {
            throw malformed(shown, "truncated: the header ends before its " + field, fix);
        }
    }

    private static void trailing(DataInputStream in, String shown, String what, String fix) throws IOException {
        if (in.read() != -1) {
            throw malformed(shown, "trailing data: the header announces " + what + " but the file holds more", fix);
        }
    }

    private static DatasetException malformed(String shown, String problem, String fix) {
        return new DatasetException(shown + " is not a valid IDX file: " + problem + fix);
    }

    private static DatasetException unreadable(String shown, IOException e, String fix) {
        return new DatasetException(shown + " could not be read: " + e.getMessage() + fix, e);
    }
}
