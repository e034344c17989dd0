package dev.shears.trainer.data;

import dev.shears.common.data.InputShape;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The data sets of one worker, each read once and shared read-only by all its job sessions.
 * Their values take at most {@code budgetBytes} of heap all together; a data set that does not
 * fit in what is left is written once to a file under the spill directory and mapped, so that it
 * streams from disk (the operating system's page cache holds what fits). Data sets stay loaded
 * for the worker's life.
 *
 * <p>Thread-safe: sessions on several threads may ask for the same data set; it is read once and
 * the others wait for it. A data set that fails to load is not kept, and the next request tries
 * again.
 */
public final class DataCache {

    private record Key(Path dir, Optional<InputShape> resize) {
    }

    /** The shipped recipes' data set: a missing one is told how to install it. */
    private static final String FASHION_MNIST = "fashion-mnist";

    private final Roots roots;
    private final long budgetBytes;
    private final Path spillDir;
    private final Map<Key, LoadedDataset> loaded = new LinkedHashMap<>();

    /**
     * @param roots       where data set names resolve
     * @param budgetBytes the heap the data sets' values may take, >= 0
     * @param spillDir    where data sets over the budget are written to stream from (under the
     *                    worker's work directory)
     */
    public DataCache(Roots roots, long budgetBytes, Path spillDir) {
        if (budgetBytes < 0) {
            throw new IllegalArgumentException(
                    "data budget " + budgetBytes + " bytes is out of range: it must be >= 0");
        }
        this.roots = roots;
        this.budgetBytes = budgetBytes;
        this.spillDir = spillDir;
    }

    /**
     * The data set named {@code name} under the roots, images resized to {@code resize} if given;
     * read on the first request, the same instance afterwards.
     *
     * @throws Roots.UnavailableException when no root holds it (the message is safe to send back)
     * @throws DatasetException when its files are not valid, naming the file, the record and the fix
     */
    public synchronized LoadedDataset get(String name, Optional<InputShape> resize) {
        Key key;
        try {
            key = new Key(roots.resolve(name, Roots.Kind.DIRECTORY), resize);
        } catch (Roots.UnavailableException e) {
            if (!name.equals(FASHION_MNIST)) {
                throw e;
            }
            throw new Roots.UnavailableException(e.getMessage().replaceFirst("\\)$", "; Debian's package"
                    + " dataset-fashion-mnist installs it under /usr/share/datasets: apt-get install -y"
                    + " dataset-fashion-mnist)"), e.detail());
        }
        LoadedDataset data = loaded.get(key);
        if (data == null) {
            data = LoadedDataset.load(key.dir(), name, resize, Math.max(0, budgetBytes - heapBytes()), spillDir);
            loaded.put(key, data);
        }
        return data;
    }

    /** The heap the loaded data sets hold, in bytes. */
    public synchronized long heapBytes() {
        return loaded.values().stream().mapToLong(LoadedDataset::heapBytes).sum();
    }

    /** The heap the data sets' values may take, in bytes. */
    public long budgetBytes() {
        return budgetBytes;
    }

    /** The roots names resolve under. */
    public Roots roots() {
        return roots;
    }
}
