package dev.shears.common.recipe;

/**
 * The {@code fineTune} section.
 *
 * @param iterationsPerStep training iterations (batches) after each pruning step, before it is
 *     evaluated, in [0, 10^7]
 */
public record FineTune(int iterationsPerStep) {

    static final String SECTION = "fineTune";
    static final int MAX_ITERATIONS = 10_000_000;

    /** @throws RecipeException when {@code iterationsPerStep} is out of range */
    public FineTune {
        Problems.require(SECTION, p -> check(iterationsPerStep, p));
    }

    /** 469 iterations per step. */
    public static FineTune defaults() {
        return new FineTune(469);
    }

    static void check(Integer iterationsPerStep, Problems p) {
        p.range(SECTION + ".iterationsPerStep", iterationsPerStep, 0, MAX_ITERATIONS,
                "e.g. 469, about half an epoch of Fashion-MNIST at batch 64");
    }
}
