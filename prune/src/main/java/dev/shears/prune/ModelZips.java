package dev.shears.prune;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;

/**
 * The check every model zip passes before anything reads it: DL4J's {@code ModelSerializer} (which inflates every
 * entry into memory, through {@link ZipInputStream}), {@link PrunedModel#restore}, the trainer's model loader and the
 * publisher's read-back. Without it, a {@code file:} model in a recipe, a checkpoint or a published model is a way to
 * exhaust a worker's memory (a zip bomb) or to reach Java deserialization.
 *
 * <p>A model zip is refused when it has more entries than {@link Limits#maxEntries()}, an entry larger than
 * {@link Limits#maxEntryBytes()} or entries together larger than {@link Limits#maxTotalBytes()} once inflated, or when
 * past {@link Limits#ratioFrom()} inflated bytes it inflates to more than {@link Limits#maxRatio()} times its size on
 * disk; when an entry's name is empty, absolute, a folder, has a {@code ..} segment, a backslash or a control character,
 * or appears twice; when its entries overlap or its central directory and its entries' own headers disagree (so that
 * DL4J, reading the entries in order, and a reader of the central directory would see different files); and when it
 * has a {@code preprocessor.bin}, the entry DL4J deserializes as a Java object, or a {@code noParams.marker}, with which
 * DL4J would allocate the parameters its configuration declares instead of reading them. Every entry is inflated once,
 * counting bytes, and no further than its declared size: a lying header costs no more than an honest one.
 *
 * <p>The entries that become arrays are checked on their bytes before anything allocates them. An array entry
 * ({@code coefficients.bin}, {@code updaterState.bin}, read by {@code Nd4j.read}, which allocates native memory from
 * the lengths in its headers) is refused when its declared lengths and element sizes disagree with the bytes it holds,
 * or its shape information does not describe its data (see {@code Nd4jArrays}). A pruning-state entry is refused when
 * it does not hold the bytes its record in the pruning index declares (see {@link PrunedModel}), and the index when it
 * is malformed. Nothing of this calls ND4J or DL4J.
 */
public final class ModelZips {
    /** The entry DL4J reads with a plain {@code ObjectInputStream}. */
    public static final String PREPROCESSOR_ENTRY = "preprocessor.bin";
    /** The entry that tells DL4J the model has no parameters: it then allocates them from the configuration alone. */
    static final String NO_PARAMS_ENTRY = "noParams.marker";

    /**
     * The bounds of {@link #check(Path, Limits)}.
     *
     * @param maxEntries the most entries, at least 1
     * @param maxEntryBytes the largest inflated entry, in bytes
     * @param maxTotalBytes the most inflated bytes of all entries together
     * @param maxRatio the most inflated bytes per byte of the file, checked once the file inflates past {@code ratioFrom}
     * @param ratioFrom the inflated size, in bytes, from which {@code maxRatio} applies (small files may hold an entry of
     *     zeros, which deflate shrinks about 1,000 times)
     */
    public record Limits(int maxEntries, long maxEntryBytes, long maxTotalBytes, int maxRatio, long ratioFrom) {
        /**
         * 1,000 entries (DL4J writes at most five, Shears one more per pruned parameter), 1 GiB per entry, 2 GiB in all
         * (DL4J holds every entry in memory at once), and a ratio of 400 past 64 MiB: a float32 array that is 99.9 %
         * zeros deflates about 340 times, one of zeros only about 1,030 times.
         */
        public static final Limits DEFAULT = new Limits(1_000, 1L << 30, 2L << 30, 400, 64L << 20);

        /** @throws IllegalArgumentException when a bound is not positive */
        public Limits {
            if (maxEntries < 1 || maxEntryBytes < 1 || maxTotalBytes < 1 || maxRatio < 1 || ratioFrom < 0) {
                throw new IllegalArgumentException("model zip limits must be positive: " + maxEntries + " entries, "
                        + maxEntryBytes + " bytes per entry, " + maxTotalBytes + " bytes in all, ratio " + maxRatio
                        + " from " + ratioFrom + " bytes (fix: pass positive bounds, or use Limits.DEFAULT)");
            }
        }
    }

    private ModelZips() {}

    /** {@link #check(Path, Limits)} with {@link Limits#DEFAULT}. */
    public static void check(Path file) throws IOException {
        check(file, Limits.DEFAULT);
    }

    /**
     * Checks {@code file} as the class comment says, reading it twice (its central directory, then its entries in
     * order) and keeping nothing.
     *
     * @throws java.util.zip.ZipException when it is not a zip
     * @throws IOException when it cannot be read
     * @throws IllegalArgumentException when it is refused; the message names the file, the entry and the limit
     */
    public static void check(Path file, Limits limits) throws IOException {
        long onDisk = Files.size(file);
        List<ZipEntry> entries;
        try (ZipFile zip = new ZipFile(file.toFile())) {
            entries = Collections.list(zip.entries()).stream().map(e -> (ZipEntry) e).toList();
        }
        if (entries.size() > limits.maxEntries()) {
            throw refused(file, "has " + entries.size() + " entries, more than the limit of " + limits.maxEntries());
        }
        Set<String> names = new HashSet<>();
        long declaredTotal = 0;
        long compressedTotal = 0;
        for (ZipEntry e : entries) {
            checkName(file, e.getName());
            if (!names.add(e.getName())) {
                throw refused(file, "has two entries named '" + e.getName() + "'");
            }
            if (e.getSize() > limits.maxEntryBytes()) {
                throw refused(file,
                        "entry " + e.getName() + " inflates to " + e.getSize() + " bytes, more than the limit of "
                                + limits.maxEntryBytes() + " per entry");
            }
            declaredTotal += e.getSize();
            compressedTotal += e.getCompressedSize();
        }
        if (declaredTotal > limits.maxTotalBytes()) {
            throw refused(file,
                    "inflates to " + declaredTotal + " bytes, more than the limit of " + limits.maxTotalBytes()
                            + " for all entries together");
        }
        if (compressedTotal > onDisk) {
            throw refused(file, "has entries of " + compressedTotal + " compressed bytes in a file of " + onDisk
                    + ": they overlap");
        }
        if (declaredTotal > limits.ratioFrom() && declaredTotal > (double) limits.maxRatio() * onDisk) {
            throw refused(file,
                    "inflates to " + declaredTotal + " bytes, more than " + limits.maxRatio() + " times its "
                            + onDisk + " bytes on disk (the limit past " + limits.ratioFrom()
                            + " inflated bytes): a possible zip bomb");
        }
        if (names.contains(PREPROCESSOR_ENTRY)) {
            throw refused(file, "has an entry " + PREPROCESSOR_ENTRY + ", a Java-serialized object that DL4J would"
                    + " deserialize; Shears reads no preprocessor");
        }
        if (names.contains(NO_PARAMS_ENTRY)) {
            throw refused(file, "has an entry " + NO_PARAMS_ENTRY + ", with which DL4J allocates the parameters its"
                    + " configuration declares instead of reading them; a model Shears reads has parameters");
        }
        checkEntries(file, entries);
        String index = PruningIndex.entryIn(names);
        if (index != null) {
            checkPruningState(file, index);
        }
    }

    /**
     * Inflates the entries in file order, as DL4J does, each no further than the central directory's size for it, and
     * checks the headers of the array entries on the way.
     */
    private static void checkEntries(Path file, List<ZipEntry> central) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        int i = 0;
        try (ZipInputStream zip = new ZipInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; i++) {
                ZipEntry expected = i < central.size() ? central.get(i) : null;
                if (expected == null || !expected.getName().equals(e.getName())) {
                    throw refused(file, "has an entry '" + e.getName() + "' at position " + i + " where its central"
                            + " directory has " + (expected == null ? "none" : "'" + expected.getName() + "'"));
                }
                Counted entry = new Counted(zip, expected.getSize() + 1);
                if (Nd4jArrays.ENTRIES.contains(e.getName())) {
                    Nd4jArrays.check(file, e.getName(), new DataInputStream(entry), expected.getSize());
                }
                long inflated = entry.drain(buffer);
                if (inflated > expected.getSize()) {
                    throw refused(file, "entry " + e.getName() + " inflates to more than the " + expected.getSize()
                            + " bytes its central directory declares");
                }
                if (inflated < expected.getSize()) {
                    throw refused(file, "entry " + e.getName() + " inflates to only " + inflated + " bytes, but its"
                            + " central directory declares " + expected.getSize());
                }
            }
        }
        if (i != central.size()) {
            throw refused(file, "has " + i + " entries in order but " + central.size() + " in its central directory");
        }
    }

    /**
     * Checks each pruning-state entry against its record in the index; run once every entry is known to inflate to its
     * declared size.
     */
    private static void checkPruningState(Path file, String indexEntry) throws IOException {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (PruningIndex.Parameter p : PruningIndex.read(zip, indexEntry, why -> refused(file, why))
                    .parameters()) {
                ZipEntry state = zip.getEntry(p.entry());
                if (state == null || state.getSize() != p.entryBytes()) {
                    throw refused(file, "entry " + p.entry() + " should hold " + p.entryBytes() + " bytes for "
                            + p.described() + " with " + p.pruned() + " pruned, as " + indexEntry + " records, but "
                            + (state == null ? "it is missing" : "holds " + state.getSize()));
                }
            }
        }
    }

    /** An entry's inflated bytes, read no further than {@code limit} and counted. */
    private static final class Counted extends InputStream {
        private final InputStream in;
        private final long limit;
        private long count;

        Counted(InputStream in, long limit) {
            this.in = in;
            this.limit = limit;
        }

        @Override
        public int read() throws IOException {
            int b = count < limit ? in.read() : -1;
            count += b < 0 ? 0 : 1;
            return b;
        }

        @Override
        public int read(byte[] into, int offset, int length) throws IOException {
            if (count >= limit) {
                return -1;
            }
            int n = in.read(into, offset, (int) Math.min(length, limit - count));
            count += Math.max(n, 0);
            return n;
        }

        /** Reads what is left, up to the limit; the count of all bytes read. */
        long drain(byte[] buffer) throws IOException {
            while (read(buffer, 0, buffer.length) > 0) {
                continue;
            }
            return count;
        }
    }

    private static void checkName(Path file, String name) {
        String problem = name.isEmpty() ? "is empty"
                : name.startsWith("/") || name.matches("^[A-Za-z]:.*") ? "is an absolute path"
                : name.endsWith("/") ? "is a folder"
                : name.contains("\\") ? "has a backslash"
                : name.chars().anyMatch(c -> c < 0x20 || c == 0x7f) ? "has a control character"
                : List.of(name.split("/")).contains("..") ? "has a '..' segment"
                : null;
        if (problem != null) {
            throw refused(file, "has an entry named '" + name.replaceAll("\\p{Cntrl}", "?") + "', which " + problem);
        }
    }

    /** The exception for a refused file: its message names the file, then {@code why}, then the fix. */
    static IllegalArgumentException refused(Path file, String why) {
        return new IllegalArgumentException(
                "model file " + file + " " + why + "; it is refused before anything reads it"
                        + " (fix: use a model zip written by ModelSerializer.writeModel or PrunedModel.save)");
    }
}
