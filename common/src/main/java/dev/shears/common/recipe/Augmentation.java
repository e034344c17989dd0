package dev.shears.common.recipe;

/**
 * Random changes to each training image, drawn anew per epoch and seeded by the job's seed, the
 * epoch and the example, so that a resumed job sees the very same images: a shift of up to
 * {@code crop} pixels in each direction (PyTorch's {@code RandomCrop(size, padding=crop)} before
 * {@code Normalize}: the image padded with black, value 0, and cut back to its size) and a
 * mirror left to right with probability 1/2. Validation and test images are never changed.
 *
 * @param crop the padding of the random crop in pixels, in [0, {@value #MAX_CROP}]; 0 for none
 * @param flip whether images are mirrored at random
 */
public record Augmentation(int crop, boolean flip) {

    /** No change: the default. */
    public static final Augmentation NONE = new Augmentation(0, false);
    static final int MAX_CROP = 64;

    /** @throws RecipeException when {@code crop} is out of range */
    public Augmentation {
        int c = crop;
        Problems.require(DataSpec.FIELD, p -> check(c, p));
    }

    /** Whether an image may change at all. */
    public boolean isActive() {
        return crop > 0 || flip;
    }

    static void check(Integer crop, Problems p) {
        p.range(DataSpec.FIELD + ".augmentation.crop", crop, 0, MAX_CROP, "e.g. 4 for 32x32 images, 0 for none");
    }

    @Override
    public String toString() {
        return "{crop: " + crop + ", flip: " + flip + "}";
    }
}
