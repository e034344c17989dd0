package dev.shears.trainer.data;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** The committed Fashion-MNIST subset: 200 training and 50 test images per class. */
public final class Subset {

    private static FashionMnist loaded;

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

    /** The subset, loaded once per test JVM. */
    public static synchronized FashionMnist load() {
        if (loaded == null) {
            loaded = FashionMnist.load(dir());
        }
        return loaded;
    }
}
