package dev.shears.common.recipe;

import java.util.Locale;
import java.util.Objects;

/**
 * The {@code publish} section: what the job publishes, under which name.
 *
 * @param name the name the final model is published under; the same charset as a job name
 *     ({@code [a-z0-9][a-z0-9._-]{0,63}}), by default the job's
 * @param artifact what the job publishes: the pruned model (the default), or a sensitivity analysis of its dense
 *     model instead (then the schedule's steps are not run: the dense model is trained, analysed, and the report
 *     published; the schedule's final sparsity is the total the report suggests per-layer targets for)
 */
public record Publish(String name, Artifact artifact) {

    static final String SECTION = "publish";

    /** What a job publishes. */
    public enum Artifact {
        /** The pruned model, made permanent, compacted where it can be. */
        MODEL,
        /** A sensitivity report (table, JSON, chart) of the dense model: each layer or group pruned alone. */
        SENSITIVITY;

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** @throws RecipeException when {@code name} is not a valid name */
    public Publish {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(artifact, "artifact");
        Problems.require(SECTION, p -> check(name, p));
    }

    /** The pruned model, published under {@code name}. */
    public Publish(String name) {
        this(name, Artifact.MODEL);
    }

    /** Whether the job publishes a sensitivity report instead of a pruned model. */
    public boolean isSensitivityReport() {
        return artifact == Artifact.SENSITIVITY;
    }

    static void check(String name, Problems p) {
        p.name(SECTION + ".name", name, "lenet5-fmnist-90");
    }
}
