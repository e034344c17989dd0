package dev.shears.trainer.data;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;

/** The committed Fashion-MNIST subset: 200 training and 50 test images per class. */
public final class Subset {

    /** The subset's name under its data root, {@link #root()}. */
    public static final String NAME = "fashion-mnist-subset";

    private static FashionMnist loaded;
    private static DataCache cache;

    private Subset() {
    }

    /** The directory holding the subset's four IDX .gz files. */
    public static Path dir() {
        try {
            return Path.of(Subset.class.getResource("/fashion-mnist-subset").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The data root the subset lies in: the trainer's test resources. */
    public static Path root() {
        return dir().getParent();
    }

    /** Data sets under {@link #root()}, read once per test JVM and shared as a worker's are; no model root. */
    public static JobInputs inputs() {
        return inputs(List.of());
    }

    /** {@link #inputs()} with saved models under {@code modelRoots}. */
    public static synchronized JobInputs inputs(List<Path> modelRoots) {
        if (cache == null) {
            cache = new DataCache(Roots.of("data", List.of(root())), Long.MAX_VALUE,
                    Path.of(System.getProperty("java.io.tmpdir")));
        }
        return new JobInputs(cache, Roots.of("model", modelRoots));
    }

    /** The subset, loaded once per test JVM. */
    public static synchronized FashionMnist load() {
        if (loaded == null) {
            loaded = FashionMnist.load(dir());
        }
        return loaded;
    }
}
