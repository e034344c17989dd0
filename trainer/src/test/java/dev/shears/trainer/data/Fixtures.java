package dev.shears.trainer.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;

/** Tiny data set files written by the tests themselves. */
final class Fixtures {

    private Fixtures() {}

    /** An IDX header: the magic number, then each count. */
    static byte[] header(int magic, int... counts) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * counts.length).putInt(magic);
        for (int c : counts) {
            b.putInt(c);
        }
        return b.array();
    }

    /** Writes header and body to {@code file}, gzipped when its name ends in .gz. */
    static Path idx(Path file, byte[] header, byte[] body) throws IOException {
        Files.createDirectories(file.getParent());
        try (OutputStream out = file.toString().endsWith(".gz")
                ? new GZIPOutputStream(Files.newOutputStream(file)) : Files.newOutputStream(file)) {
            out.write(header);
            out.write(body);
        }
        return file;
    }

    /**
     * An IDX data set in {@code dir}: {@code train} and {@code test} examples of 1 x rows x columns,
     * example i's pixels all equal to i (mod 256) and its label i % classes.
     */
    static Path idxSet(Path dir, int train, int test, int rows, int columns, int classes) throws IOException {
        for (String split : new String[]{"train", "t10k"}) {
            int n = split.equals("train") ? train : test;
            byte[] pixels = new byte[n * rows * columns];
            byte[] labels = new byte[n];
            for (int i = 0; i < n; i++) {
                Arrays.fill(pixels, i * rows * columns, (i + 1) * rows * columns, (byte) i);
                labels[i] = (byte) (i % classes);
            }
            idx(dir.resolve(split + "-images-idx3-ubyte.gz"), header(Idx.IMAGES_MAGIC, n, rows, columns), pixels);
            idx(dir.resolve(split + "-labels-idx1-ubyte.gz"), header(Idx.LABELS_MAGIC, n), labels);
        }
        return dir;
    }

    /** A PNG of {@code rgb[y][x]} (0xRRGGBB), grey when {@code grey}. */
    static Path png(Path file, int[][] rgb, boolean grey) throws IOException {
        Files.createDirectories(file.getParent());
        BufferedImage image = new BufferedImage(rgb[0].length, rgb.length,
                grey ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < rgb.length; y++) {
            for (int x = 0; x < rgb[0].length; x++) {
                if (grey) {
                    image.getRaster().setSample(x, y, 0, rgb[y][x] & 0xff);
                } else {
                    image.setRGB(x, y, rgb[y][x]);
                }
            }
        }
        ImageIO.write(image, "png", file.toFile());
        return file;
    }

    /** An image of one colour. */
    static int[][] plain(int height, int width, int rgb) {
        int[][] image = new int[height][width];
        for (int[] row : image) {
            Arrays.fill(row, rgb);
        }
        return image;
    }

    /** The bytes of a PNG cut short: a corrupt file. */
    static byte[] corruptPng(int[][] rgb) throws IOException {
        BufferedImage image = new BufferedImage(rgb[0].length, rgb.length, BufferedImage.TYPE_INT_RGB);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        byte[] all = out.toByteArray();
        return Arrays.copyOf(all, 20);
    }
}
