package dev.shears.trainer.data;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a job finds what its recipe names: data sets in its worker's {@link DataCache} (read once, shared by every
 * job session), saved models ({@code model: file:<name>}) under the worker's model roots.
 *
 * @param data   the data sets, under the worker's data roots
 * @param models the roots saved models are named under; none when the operator gave none
 */
public record JobInputs(DataCache data, Roots models) {

    public JobInputs {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(models, "models");
    }

    /**
     * The real path of the saved model a recipe names by {@code name} under the model roots.
     *
     * @throws Roots.UnavailableException when no model root holds it as a regular file, or it leads out of its root;
     *     the message is the same for all of these and safe to send back
     */
    public Path model(Path name) {
        return models.resolve(name.toString().replace('\\', '/'), Roots.Kind.FILE);
    }
}
