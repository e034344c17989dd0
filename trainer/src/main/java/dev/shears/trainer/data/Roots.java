package dev.shears.trainer.data;

import dev.shears.common.data.RelativeName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The directories an operator lets recipes name things under: a worker's data roots
 * ({@code --data-root}) or its model roots ({@code --model-root}). A recipe names a data set or a
 * model by a {@link RelativeName}; {@link #resolve} finds it under the first root that holds it and
 * proves by real path (symbolic links followed) that it lies inside that root.
 *
 * <p>What {@link #resolve} tells the recipe's author never depends on what the worker's disk holds
 * outside the roots: a name that leaves the roots (by a link), one that does not exist and one
 * that is not of the right kind all get the same reason. The detail is for the worker's log only.
 *
 * <p>Immutable and thread-safe.
 */
public final class Roots {

    /** Where Debian's dataset packages install (dataset-fashion-mnist puts {@code fashion-mnist} there). */
    public static final Path DEBIAN_DATASETS = Path.of("/usr/share/datasets");

    /** What a name must be under the roots. */
    public enum Kind {
        /** A directory: a data set. */
        DIRECTORY,
        /** A regular file: a model zip. */
        FILE
    }

    private final String what;
    private final List<Path> dirs;

    private Roots(String what, List<Path> dirs) {
        this.what = what;
        this.dirs = List.copyOf(dirs);
    }

    /**
     * Roots for names of {@code what} ({@code "data"} or {@code "model"}), searched in the given
     * order; the directories need not exist yet.
     */
    public static Roots of(String what, List<Path> dirs) {
        Objects.requireNonNull(what, "what");
        List<Path> absolute = new ArrayList<>();
        for (Path dir : dirs) {
            absolute.add(dir.toAbsolutePath().normalize());
        }
        return new Roots(what, absolute);
    }

    /** The data roots of a worker whose operator sets none: {@link #DEBIAN_DATASETS} alone. */
    public static Roots defaultData() {
        return of("data", List.of(DEBIAN_DATASETS));
    }

    /** The roots, absolute, in search order. */
    public List<Path> dirs() {
        return dirs;
    }

    /**
     * The real path of {@code name} under the first root that holds it as a {@code kind}.
     *
     * @throws UnavailableException when {@code name} is not a safe relative name, when no root
     *                              holds it as a {@code kind}, or when it leads out of its root by
     *                              a symbolic link; the message is the same for all of these and
     *                              safe to send back
     */
    public Path resolve(String name, Kind kind) {
        List<String> detail = new ArrayList<>();
        if (RelativeName.problem(name).isPresent()) {
            detail.add("the name " + RelativeName.problem(name).get());
        } else {
            for (Path root : dirs) {
                Path candidate = root.resolve(name);
                if (!Files.exists(candidate, LinkOption.NOFOLLOW_LINKS)) {
                    detail.add(candidate + " does not exist");
                    continue;
                }
                try {
                    Path real = candidate.toRealPath();
                    Path realRoot = root.toRealPath();
                    if (!real.startsWith(realRoot) || real.equals(realRoot)) {
                        detail.add(candidate + " leads to " + real + ", outside its root " + realRoot);
                    } else if (kind == Kind.DIRECTORY ? !Files.isDirectory(real) : !Files.isRegularFile(real)) {
                        detail.add(real + " is not a " + (kind == Kind.DIRECTORY ? "directory" : "regular file"));
                    } else {
                        return real;
                    }
                } catch (IOException e) {
                    detail.add(candidate + " cannot be resolved: " + e);
                }
            }
        }
        throw new UnavailableException(what + " " + (kind == Kind.DIRECTORY ? "set" : "file") + " \"" + name
                + "\" is not available on this worker: no " + what + " root holds it (fix: check the name, or"
                + " ask the worker's operator to put it under --" + what + "-root)", String.join("; ", detail));
    }

    @Override
    public String toString() {
        return "--" + what + "-root " + dirs;
    }

    /**
     * A name a recipe gave is not available under the roots. The message is safe to send back to
     * whoever wrote the recipe; {@link #detail()} says why for the worker's own log.
     */
    public static final class UnavailableException extends DatasetException {

        private static final long serialVersionUID = 1L;
        private final String detail;

        UnavailableException(String message, String detail) {
            super(message);
            this.detail = detail;
        }

        /** Why, in terms of the worker's files: for its log, never for the recipe's author. */
        public String detail() {
            return detail;
        }
    }
}
