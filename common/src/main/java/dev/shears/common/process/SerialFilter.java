package dev.shears.common.process;

import java.io.ObjectInputFilter;

/**
 * The process-wide filter on Java deserialization that every Shears entry point installs first (the scheduler, the
 * worker, {@code train}, the {@code shears} command line, the broker's JVM, the images' entry points): every class
 * is refused, and a stream is bounded in depth, references, array length and bytes.
 *
 * <p>Why no class at all: the one place where a Shears service reaches Java deserialization is DL4J's
 * {@code ModelSerializer.restoreMultiLayerNetwork} / {@code restoreComputationGraph} (1.0.0-M2.1), which reads a model
 * zip's {@code preprocessor.bin} entry, when there is one, with a plain {@code ObjectInputStream}. DL4J's own
 * {@code writeModel} never writes that entry and Shears asks for no preprocessor, so no model file Shears writes or
 * reads needs a class; DL4J's other {@code ObjectInputStream}s (the normalizer's old format, {@code getObjectFromFile})
 * are in methods Shears does not call, and ND4J reads arrays from plain data streams. Restoring every kind of model file
 * Shears writes with this filter installed asks it for no class ({@code ModelFilesTest} in the deploy module), and
 * {@code dev.shears.prune.ModelZips} refuses a {@code preprocessor.bin} before DL4J opens the file.
 *
 * <p>An operator's {@code -Djdk.serialFilter} takes precedence: {@link #install()} keeps a filter already set.
 */
public final class SerialFilter {

    /** The filter in {@code jdk.serialFilter} syntax: the limits, then {@code !*} (no class). */
    public static final String PATTERN = "maxdepth=10;maxrefs=1000;maxarray=100000;maxbytes=1048576;!*";

    private static final ObjectInputFilter FILTER = ObjectInputFilter.Config.createFilter(PATTERN);

    private SerialFilter() {}

    /**
     * Makes {@link #PATTERN} this JVM's filter for every {@code ObjectInputStream}, unless a filter is set already
     * ({@code -Djdk.serialFilter}, or an earlier call). Idempotent and thread-safe; call it first in {@code main}.
     *
     * @return the filter in effect afterwards
     */
    public static synchronized ObjectInputFilter install() {
        ObjectInputFilter current = ObjectInputFilter.Config.getSerialFilter();
        if (current == null) {
            ObjectInputFilter.Config.setSerialFilter(FILTER);
            return FILTER;
        }
        return current;
    }
}
