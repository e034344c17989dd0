package dev.shears.common.recipe;

/**
 * The shape of one example a model reads: channels, height and width (an image; a flat vector of {@code n}
 * features is {@code (n, 1, 1)}). Data sets declare it, built-in models are shaped by it, and the scheduler checks
 * a recipe's model against it at submission ({@link ModelSource#checkFits}).
 *
 * @param channels in [1, 65536]
 * @param height in [1, 65536]
 * @param width in [1, 65536]
 */
public record InputShape(int channels, int height, int width) {

    /** Fashion-MNIST and MNIST: one channel of 28x28. */
    public static final InputShape FASHION_MNIST = new InputShape(1, 28, 28);

    /** @throws RecipeException when a dimension is out of range */
    public InputShape {
        int c = channels;
        int h = height;
        int w = width;
        Problems.require("input shape", p -> {
            p.range("channels", c, 1, 65536, "e.g. 1 for grey images, 3 for colour");
            p.range("height", h, 1, 65536, "e.g. 28");
            p.range("width", w, 1, 65536, "e.g. 28");
        });
    }

    /** Values per example: channels x height x width. */
    public long features() {
        return (long) channels * height * width;
    }

    /** {@code CxHxW}, e.g. {@code 1x28x28}. */
    @Override
    public String toString() {
        return channels + "x" + height + "x" + width;
    }
}
