package dev.shears.common.recipe;

import java.util.Objects;

/**
 * One thing wrong with a recipe.
 *
 * @param field the path of the offending key, such as {@code schedule.finalSparsity} or
 *     {@code pruning.parameters[2]}; {@code (document)} for the recipe as a whole
 * @param value the offending value as it reads in YAML ({@code 1.3}, {@code "abc"}), or the empty
 *     string when the field is missing
 * @param message the whole sentence: field, value, what is allowed and how to fix it, e.g.
 *     {@code schedule.finalSparsity 1.3 is out of range: must be in [0, 1)}
 */
public record Problem(String field, String value, String message) {

    public Problem {
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(message, "message");
    }

    @Override
    public String toString() {
        return message;
    }
}
