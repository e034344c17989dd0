package dev.shears.common.recipe;

import dev.shears.common.data.InputShape;
import dev.shears.common.data.Normalization;
import dev.shears.common.data.RelativeName;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code data} key: which data set a job trains on, named under the worker's data roots, and
 * how it is split, shaped, normalised and augmented. Written either as a name alone
 * ({@code data: fashion-mnist}) or as a section with {@code name} and the other keys.
 *
 * @param name          the data set: a path relative to a worker's data root, such as
 *                      {@code fashion-mnist} or {@code mine/cifar10}; never absolute, never
 *                      {@code ..} (see {@link RelativeName})
 * @param validation    the part of the training data held out to decide the accuracy budget
 * @param shape         the shape examples are given to the model in (images are resized to it);
 *                      empty for the data set's own
 * @param normalization the per-channel mean and std; empty to compute them from the training split
 * @param augmentation  random crops and flips of training images; {@link Augmentation#NONE} by default
 */
public record DataSpec(
        String name,
        ValidationSplit validation,
        Optional<InputShape> shape,
        Optional<Normalization> normalization,
        Augmentation augmentation) {

    static final String FIELD = "data";
    /** The data set a recipe without {@code data} trains on. */
    public static final String DEFAULT_NAME = "fashion-mnist";
    static final String NAME_RULE = RelativeName.rule("data");

    /** @throws RecipeException when the name is unsafe or the shape and normalisation disagree */
    public DataSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(validation, "validation");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(normalization, "normalization");
        Objects.requireNonNull(augmentation, "augmentation");
        Problems.require(FIELD, p -> check(FIELD + ".name", name, shape, normalization, augmentation, p));
    }

    /** Fashion-MNIST with 10 % held out for validation, normalisation computed, no augmentation. */
    public static DataSpec defaults() {
        return named(DEFAULT_NAME);
    }

    /** The data set {@code name} with every other key at its default. */
    public static DataSpec named(String name) {
        return new DataSpec(name, ValidationSplit.DEFAULT, Optional.empty(), Optional.empty(), Augmentation.NONE);
    }

    /** Whether every key but the name is at its default, so that {@code data: <name>} says it all. */
    public boolean isNameOnly() {
        return validation.equals(ValidationSplit.DEFAULT) && shape.isEmpty() && normalization.isEmpty()
                && augmentation.equals(Augmentation.NONE);
    }

    static void check(String field, String name, Optional<InputShape> shape, Optional<Normalization> normalization,
            Augmentation augmentation, Problems p) {
        checkName(field, name, "fashion-mnist", p);
        if (shape != null && normalization != null && shape.isPresent() && normalization.isPresent()
                && shape.get().channels() != normalization.get().channels()) {
            p.add(FIELD + ".normalization", normalization.get().mean(), "has " + normalization.get().channels()
                    + " channels but data.shape " + shape.get() + " has " + shape.get().channels()
                    + " (fix: give one mean and one std per channel)");
        }
        if (shape != null && augmentation != null && shape.isPresent() && !shape.get().isImage()
                && !augmentation.equals(Augmentation.NONE)) {
            p.add(FIELD + ".augmentation", augmentation.toString(), "applies to images only, and data.shape is "
                    + shape.get() + " (fix: remove augmentation)");
        }
    }

    /** Checks that {@code value} is a safe relative name ({@link RelativeName}); null means already reported. */
    static void checkName(String field, String value, String example, Problems p) {
        if (value != null) {
            RelativeName.problem(value).ifPresent(why -> p.add(field, value, why + ": it " + NAME_RULE
                    + " (fix: e.g. " + example + ")"));
        }
    }

    /** The data set's name. */
    @Override
    public String toString() {
        return name;
    }
}
