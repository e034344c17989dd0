package dev.shears.common.data;

import java.util.Objects;

/**
 * What a classifier on a data set takes and gives: the shape of one example and the number of
 * classes (the width of the one-hot labels and of the model's output).
 *
 * @param input   the shape of one example
 * @param classes the number of classes, in [2, {@value #MAX_CLASSES}]
 */
public record DataShape(InputShape input, int classes) {

    /** The most classes a data set may have. */
    public static final int MAX_CLASSES = 1 << 16;

    /** @throws IllegalArgumentException when {@code classes} is out of range */
    public DataShape {
        Objects.requireNonNull(input, "input");
        if (classes < 2 || classes > MAX_CLASSES) {
            throw new IllegalArgumentException("classes " + classes + " is out of range: a classifier needs [2, "
                    + MAX_CLASSES + "] classes");
        }
    }
}
