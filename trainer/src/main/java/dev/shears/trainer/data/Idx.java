package dev.shears.trainer.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Strict reader of gzipped IDX files (the MNIST format): big-endian header, then unsigned bytes.
 * A file must hold exactly what its header announces, no more and no less.
 */
final class Idx {

    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;

    private Idx() {
    }

    /** Reads an image file of 28x28 images as pixels scaled to [0, 1], image after image. */
    static float[] readImages(Path file, String fix) {
        try (DataInputStream in = open(file, fix)) {
            int magic = header(in, file, "magic number", fix);
            if (magic != IMAGES_MAGIC) {
                throw malformed(file, String.format(
                        "magic number 0x%08x, expected 0x%08x (an IDX file of unsigned-byte images)",
                        magic, IMAGES_MAGIC), fix);
            }
            int count = header(in, file, "image count", fix);
            int rows = header(in, file, "row count", fix);
            int cols = header(in, file, "column count", fix);
            if (rows != Split.SIDE || cols != Split.SIDE) {
                throw malformed(file, "images of " + rows + "x" + cols + ", expected "
                        + Split.SIDE + "x" + Split.SIDE, fix);
            }
            if (count < 0 || count > Integer.MAX_VALUE / Split.PIXELS) {
                throw malformed(file, "image count " + Integer.toUnsignedString(count)
                        + ", expected at most " + Integer.MAX_VALUE / Split.PIXELS, fix);
            }
            byte[] pixels = body(in, file, count * Split.PIXELS, count + " images", fix);
            float[] images = new float[pixels.length];
            for (int i = 0; i < pixels.length; i++) {
                images[i] = (pixels[i] & 0xff) / 255f;
            }
            return images;
        } catch (IOException e) {
            throw unreadable(file, e, fix);
        }
    }

    /** Reads a label file of class indices, each in [0, {@value Split#CLASSES}). */
    static byte[] readLabels(Path file, String fix) {
        try (DataInputStream in = open(file, fix)) {
            int magic = header(in, file, "magic number", fix);
            if (magic != LABELS_MAGIC) {
                throw malformed(file, String.format(
                        "magic number 0x%08x, expected 0x%08x (an IDX file of unsigned-byte labels)",
                        magic, LABELS_MAGIC), fix);
            }
            int count = header(in, file, "label count", fix);
            if (count < 0) {
                throw malformed(file, "label count " + Integer.toUnsignedString(count)
                        + ", expected at most " + Integer.MAX_VALUE, fix);
            }
            byte[] labels = body(in, file, count, count + " labels", fix);
            for (int i = 0; i < labels.length; i++) {
                if ((labels[i] & 0xff) >= Split.CLASSES) {
                    throw malformed(file, "label " + (labels[i] & 0xff) + " at index " + i
                            + ", expected a class in [0, " + Split.CLASSES + ")", fix);
                }
            }
            return labels;
        } catch (IOException e) {
            throw unreadable(file, e, fix);
        }
    }

    private static DataInputStream open(Path file, String fix) throws IOException {
        InputStream raw;
        try {
            raw = Files.newInputStream(file);
        } catch (NoSuchFileException e) {
            throw new DatasetException(file + " does not exist" + fix, e);
        }
        try {
            return new DataInputStream(new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16));
        } catch (ZipException | EOFException e) {
            raw.close();
            throw malformed(file, "no gzip header (" + e.getMessage() + "), expected a gzipped IDX file", fix);
        }
    }

    private static int header(DataInputStream in, Path file, String field, String fix) throws IOException {
        try {
            return in.readInt();
        } catch (EOFException e) {
            throw malformed(file, "truncated: the header ends before its " + field, fix);
        }
    }

    private static byte[] body(DataInputStream in, Path file, int length, String what, String fix)
            throws IOException {
        byte[] body = new byte[length];
        int read;
        try {
            read = in.readNBytes(body, 0, length);
        } catch (EOFException e) {
            throw malformed(file, "truncated: the gzip stream ends before the " + length
                    + " bytes after the header that it announces (" + what + ")", fix);
        }
        if (read < length) {
            throw malformed(file, "truncated: the header announces " + what + " (" + length
                    + " bytes after the header) but only " + read + " bytes follow", fix);
        }
        if (in.read() != -1) {
            throw malformed(file, "trailing data: the header announces " + what + " (" + length
                    + " bytes after the header) but the file has more", fix);
        }
        return body;
    }

    private static DatasetException malformed(Path file, String problem, String fix) {
        return new DatasetException(file + " is not a valid IDX file: " + problem + fix);
    }

    private static DatasetException unreadable(Path file, IOException e, String fix) {
        return new DatasetException(file + " could not be read: " + e + fix, e);
    }
}
