package dev.shears.common.recipe;

import java.util.List;

/**
 * A recipe that cannot be used, with every problem found in it at once, so that one edit can fix
 * them all.
 */
public final class RecipeException extends IllegalArgumentException {

    private final transient List<Problem> problems;

    /**
     * @param source what was read, for the message: a file name, or {@code "recipe"}
     * @param problems at least one problem
     */
    public RecipeException(String source, List<Problem> problems) {
        super(message(source, problems));
        this.problems = List.copyOf(problems);
    }

    /** Every problem found, roughly in the order of the recipe's sections; never empty. */
    public List<Problem> problems() {
        return problems;
    }

    private static String message(String source, List<Problem> problems) {
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a RecipeException needs at least one problem");
        }
        if (problems.size() == 1) {
            return source + " has a problem: " + problems.get(0).message();
        }
        StringBuilder sb = new StringBuilder(source).append(" has ").append(problems.size()).append(" problems:");
        for (Problem p : problems) {
            sb.append("\n  - ").append(p.message());
        }
        return sb.toString();
    }
}
