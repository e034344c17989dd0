package dev.shears.common.recipe;

/**
 * The {@code checkpoints} section.
 *
 * @param keepLast how many of the most recent checkpoints are kept, in [1, 1000]; the best one
 *     is kept as well
 */
public record Checkpoints(int keepLast) {

    static final String SECTION = "checkpoints";

    /** @throws RecipeException when {@code keepLast} is out of range */
    public Checkpoints {
        Problems.require(SECTION, p -> check(keepLast, p));
    }

    /** Keeps the last 3. */
    public static Checkpoints defaults() {
        return new Checkpoints(3);
    }

    static void check(Integer keepLast, Problems p) {
        p.range(SECTION + ".keepLast", keepLast, 1, 1000, "e.g. 3");
    }
}
