package dev.shears.common.recipe;

import dev.shears.common.data.RelativeName;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code model} key: a built-in architecture trained from scratch, or a DL4J
 * {@code ModelSerializer} zip to start from.
 *
 * @param kind which
 * @param file the zip; present exactly when {@code kind} is {@link Kind#FILE}
 */
public record ModelSource(Kind kind, Optional<Path> file) {

    static final String FIELD = "model";
    static final String FILE_PREFIX = "file:";
    private static final String RULE = "must be lenet5, lenet300100 or file:<path to a DL4J ModelSerializer zip"
            + " under the worker's model root>";

    /** What the model is. */
    public enum Kind {
        /** LeNet-5: two convolutions and three dense layers. */
        LENET5,
        /** LeNet-300-100: fc1 (784→300), fc2 (300→100), fc3 (100→10). */
        LENET300100,
        /** A saved network. */
        FILE;

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final ModelSource LENET5 = new ModelSource(Kind.LENET5, Optional.empty());
    public static final ModelSource LENET300100 = new ModelSource(Kind.LENET300100, Optional.empty());

    /**
     * @throws RecipeException when {@code file} is present for a built-in model or absent for
     *     {@code FILE}, or is not a safe path under the model root (absolute, {@code ..})
     */
    public ModelSource {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(file, "file");
        if (file.isPresent() != (kind == Kind.FILE)) {
            Problems.require(FIELD, p -> p.add(FIELD, kind, (kind == Kind.FILE ? "needs" : "takes no")
                    + " a file: " + RULE));
        }
        file.ifPresent(f -> Problems.require(FIELD, p -> checkFile(FILE_PREFIX + f, f.toString(), p)));
    }

    /**
     * A saved network, named by its path under the worker's model root ({@code --model-root}), such
     * as {@code lenet5.zip} or {@code team/net.zip}; the worker re-checks it by real path.
     */
    public static ModelSource file(Path zip) {
        return new ModelSource(Kind.FILE, Optional.of(zip));
    }

    /**
     * Parses the recipe's spelling.
     *
     * @throws RecipeException when {@code spec} is none of {@code lenet5}, {@code lenet300100},
     *     {@code file:<path>}
     */
    public static ModelSource parse(String spec) {
        Problems p = new Problems();
        ModelSource source = parse(spec, p);
        p.throwIfAny(FIELD);
        return source;
    }

    static ModelSource parse(String spec, Problems p) {
        if (spec.equals("lenet5")) {
            return LENET5;
        }
        if (spec.equals("lenet300100")) {
            return LENET300100;
        }
        if (spec.startsWith(FILE_PREFIX)) {
            String path = spec.substring(FILE_PREFIX.length());
            if (path.isBlank()) {
                p.add(FIELD, spec, "has no path after file: (fix: e.g. file:lenet5.zip)");
                return null;
            }
            if (path.chars().anyMatch(Character::isISOControl)) {
                p.add(FIELD, spec, "contains a control character: a path may not (fix: remove it)");
                return null;
            }
            if (!checkFile(spec, path, p)) {
                return null;
            }
            try {
                return file(Path.of(path));
            } catch (InvalidPathException e) {
                p.add(FIELD, spec, "is not a valid path: " + e.getReason() + " (fix: give the zip's path)");
                return null;
            }
        }
        String hint = Problems.closest(spec, List.of("lenet5", "lenet300100"))
                .map(s -> "did you mean " + s + "?").orElse("e.g. lenet5, or file:net.zip");
        p.add(FIELD, spec, "is not a known model: " + RULE + " (fix: " + hint + ")");
        return null;
    }

    /** Whether {@code path} is a safe name under the model root; adds the problem when not. */
    private static boolean checkFile(String spec, String path, Problems p) {
        Optional<String> why = RelativeName.problem(path);
        why.ifPresent(w -> p.add(FIELD, spec, "names a file that " + w + ": the path after file: "
                + RelativeName.rule("model") + " (fix: e.g. file:lenet5.zip)"));
        return why.isEmpty();
    }

    /** The recipe's spelling: {@code lenet5}, {@code lenet300100} or {@code file:<path>}. */
    @Override
    public String toString() {
        return kind == Kind.FILE ? FILE_PREFIX + file.orElseThrow() : kind.toString();
    }
}
