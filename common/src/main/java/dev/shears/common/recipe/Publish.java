package dev.shears.common.recipe;

/**
 * The {@code publish} section.
 *
 * @param name the name the final model is published under; the same charset as a job name
 *     ({@code [a-z0-9][a-z0-9._-]{0,63}}), by default the job's
 */
public record Publish(String name) {

    static final String SECTION = "publish";

    /** @throws RecipeException when {@code name} is not a valid name */
    public Publish {
        java.util.Objects.requireNonNull(name, "name");
        Problems.require(SECTION, p -> check(name, p));
    }

    static void check(String name, Problems p) {
        p.name(SECTION + ".name", name, "lenet5-fmnist-90");
    }
}
