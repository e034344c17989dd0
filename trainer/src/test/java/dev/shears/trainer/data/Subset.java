package dev.shears.trainer.data;

import dev.shears.common.data.Normalization;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The committed Fashion-MNIST subset: 200 training and 50 test images per class, 1x28x28. */
public final class Subset {

    /** The subset's name under its data root, {@link #root()}. */
    public static final String NAME = "fashion-mnist-subset";
    /** Fashion-MNIST's pixel mean and deviation, as PyTorch users write {@code Normalize((0.2860,), (0.3530,))}. */
    public static final double MEAN = 0.2860;
    public static final double STD = 0.3530;

    private static DataCache cache;

    private Subset() {}

    /** The directory holding the subset's four IDX .gz files. */
    public static Path dir() {
        try {
            return Path.of(Subset.class.getResource("/" + NAME).toURI());
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

    /** The subset, read once per test JVM. */
    public static LoadedDataset load() {
        return inputs().data().get(NAME, Optional.empty());
    }

    /** Fashion-MNIST's usual standardisation, {@link #MEAN} and {@link #STD}, for {@code channels} channels. */
    public static Normalization standard(int channels) {
        return Normalization.uniform(channels, MEAN, STD);
    }

    /** The values of example {@code i} as stored (pixels in [0, 1]). */
    public static float[] values(Examples examples, int i) {
        int size = examples.shape().input().size();
        float[] out = new float[size];
        examples.read(i, out, 0, new byte[size]);
        return out;
    }
}
