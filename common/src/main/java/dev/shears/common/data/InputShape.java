package dev.shears.common.data;

import java.util.Locale;
import java.util.Objects;

/**
 * The shape of one example as a model takes it: an image of {@code channels x height x width}
 * (a batch is NCHW, {@code [batch, channels, height, width]}), or a vector of features (a batch is
 * {@code [batch, channels]}, the features counted as channels with height and width 1, so that a
 * per-channel normalisation is a per-feature one).
 *
 * @param layout   image or features
 * @param channels colour channels of an image (1 grey, 3 RGB) or the number of features, in
 *                 [1, {@value #MAX_SIDE}] for images, [1, {@value #MAX_FEATURES}] for features
 * @param height   rows of an image in [1, {@value #MAX_SIDE}]; 1 for features
 * @param width    columns of an image in [1, {@value #MAX_SIDE}]; 1 for features
 */
public record InputShape(Layout layout, int channels, int height, int width) {

    /** The largest side or channel count of an image. */
    public static final int MAX_SIDE = 4096;
    /** The largest number of features. */
    public static final int MAX_FEATURES = 1 << 20;
    /** The largest example: 16 Mi values. */
    public static final long MAX_VALUES = 1L << 24;

    /** Fashion-MNIST and MNIST: one grey channel of 28x28. */
    public static final InputShape FASHION_MNIST = image(1, 28, 28);

    /** How an example is laid out. */
    public enum Layout {
        /** Channels, rows and columns: fed to convolutions as NCHW. */
        IMAGE,
        /** A flat vector of features: fed to dense layers as {@code [batch, features]}. */
        FEATURES;

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** @throws IllegalArgumentException when a dimension is out of its range */
    public InputShape {
        Objects.requireNonNull(layout, "layout");
        if (layout == Layout.IMAGE) {
            check("channels", channels, MAX_SIDE);
            check("height", height, MAX_SIDE);
            check("width", width, MAX_SIDE);
            if ((long) channels * height * width > MAX_VALUES) {
                throw new IllegalArgumentException("an image of " + channels + "x" + height + "x" + width
                        + " is too large: at most " + MAX_VALUES + " values per example (fix: resize it)");
            }
        } else {
            check("features", channels, MAX_FEATURES);
            if (height != 1 || width != 1) {
                throw new IllegalArgumentException("features have height and width 1, got " + height + "x" + width
                        + " (fix: use InputShape.features(n))");
            }
        }
    }

    /** An image of {@code channels x height x width}. */
    public static InputShape image(int channels, int height, int width) {
        return new InputShape(Layout.IMAGE, channels, height, width);
    }

    /** A vector of {@code features} values. */
    public static InputShape features(int features) {
        return new InputShape(Layout.FEATURES, features, 1, 1);
    }

    /** Whether this is an image (NCHW) rather than a vector of features. */
    public boolean isImage() {
        return layout == Layout.IMAGE;
    }

    /** The values in one example: {@code channels * height * width}. */
    public int size() {
        return channels * height * width;
    }

    /** The values in one channel of one example: {@code height * width}. */
    public int channelSize() {
        return height * width;
    }

    /** The shape of a batch of {@code rows} examples: {@code [rows, C, H, W]} or {@code [rows, F]}. */
    public long[] batchShape(int rows) {
        return isImage() ? new long[]{rows, channels, height, width} : new long[]{rows, channels};
    }

    /** {@code 1x28x28} for an image, {@code 54 features} for a vector. */
    @Override
    public String toString() {
        return isImage() ? channels + "x" + height + "x" + width : channels + " features";
    }

    private static void check(String what, int value, int max) {
        if (value < 1 || value > max) {
            throw new IllegalArgumentException(what + " " + value + " is out of range: must be in [1, " + max + "]");
        }
    }
}
