package dev.shears.trainer.data;

import java.util.Arrays;

/**
 * One part of a dataset of 28x28 grey-scale images with a class label each.
 *
 * <p>The arrays are held as given, not copied (the training split is 188 MB of floats): a split
 * is immutable only as long as nobody writes into them, and nobody should.
 *
 * @param images the pixels, image after image, row-major, {@value #PIXELS} per image, each in
 *               [0, 1]
 * @param labels the class of each image, in [0, {@value #CLASSES})
 */
public record Split(float[] images, byte[] labels) {

    /** Height and width of an image. */
    public static final int SIDE = 28;
    /** Pixels per image. */
    public static final int PIXELS = SIDE * SIDE;
    /** Number of classes. */
    public static final int CLASSES = 10;

    /**
     * @throws IllegalArgumentException if the lengths disagree or a label is out of range
     */
    public Split {
        if (images.length != (long) labels.length * PIXELS) {
            throw new IllegalArgumentException("a split of " + labels.length + " labels needs "
                    + (long) labels.length * PIXELS + " pixels (" + PIXELS + " per image), got "
                    + images.length);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= CLASSES) {
                throw new IllegalArgumentException("label " + labels[i] + " at index " + i
                        + " is out of range: a class must be in [0, " + CLASSES + ")");
            }
        }
    }

    /** The number of examples. */
    public int size() {
        return labels.length;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Split that
                && Arrays.equals(labels, that.labels) && Arrays.equals(images, that.images);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(labels) + Arrays.hashCode(images);
    }

    @Override
    public String toString() {
        return "Split[size=" + size() + "]";
    }
}
