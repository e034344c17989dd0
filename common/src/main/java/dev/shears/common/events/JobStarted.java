package dev.shears.common.events;

/**
 * Starts a job: the worker builds or loads the model, trains it dense for the recipe's
 * pre-training budget, checkpoints it and reports {@link StepCompleted} for seq 0. Sent with
 * seq 0.
 *
 * <p>The recipe travels as its YAML text ({@code Recipe.toYaml()}); the worker parses it with
 * {@code Recipe.parse} and reports {@link JobFailed} (not retryable) when it cannot, so that a
 * recipe this worker does not understand reaches the user instead of a dead-letter topic.
 *
 * @param recipeYaml the recipe, not blank, at most 524,288 bytes of UTF-8
 * @param steps the number of pruning steps the schedule has, in [1, 10000]; {@link Finalize}
 *     will carry seq {@code steps + 1}
 */
public record JobStarted(String recipeYaml, int steps) implements Command {

    /** @throws IllegalArgumentException when a field is out of range */
    public JobStarted {
        Check c = new Check("JobStarted");
        c.utf8Text("recipeYaml", recipeYaml, Limits.RECIPE_BYTES, false, "send Recipe.toYaml() of the submitted recipe;"
                + " a recipe is a few dozen lines");
        c.range("steps", steps, 1, Limits.MAX_STEPS, "the schedule's number of steps, e.g. 10");
    }
}
