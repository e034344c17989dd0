package dev.shears.trainer.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Collects the examples of a split as a reader produces them, on the heap while they fit in
 * {@code heapBudget} bytes; past that it writes them all to a file under {@code spillDir} and
 * {@link #build()} maps that file (the examples then stream from disk). Memory grows with what was
 * read, never with what a header announces.
 *
 * <p>The spill file is deleted as soon as it is mapped: the mapping keeps its pages, and nothing is
 * left behind by a worker that dies. Not thread-safe.
 */
final class StoreBuilder implements AutoCloseable {

    /** Examples per heap chunk: chunks of at most this many bytes. */
    private static final int CHUNK_BYTES = 1 << 24;
    /** Bytes per mapped chunk (a mapping is at most 2 GiB). */
    private static final long MAP_BYTES = 1L << 30;

    private final Store.Type type;
    private final int exampleValues;
    private final int exampleBytes;
    private final long heapBudget;
    private final Path spillDir;
    private final int perChunk;

    private final List<byte[]> byteChunks = new ArrayList<>();
    private final List<float[]> floatChunks = new ArrayList<>();
    private int[] labels = new int[1024];
    private int count;

    private Path spillFile;
    private FileChannel spill;
    private ByteBuffer spillBuffer;

    StoreBuilder(Store.Type type, int exampleValues, long heapBudget, Path spillDir) {
        this.type = type;
        this.exampleValues = exampleValues;
        this.exampleBytes = exampleValues * type.bytes;
        this.heapBudget = heapBudget;
        this.spillDir = spillDir;
        this.perChunk = Math.max(1, CHUNK_BYTES / exampleBytes);
    }

    int size() {
        return count;
    }

    /** Adds an example of unsigned bytes from {@code values[offset, offset + exampleValues)}. */
    void add(byte[] values, int offset, int label) {
        if (type != Store.Type.UINT8) {
            throw new IllegalStateException("a float store takes floats");
        }
        if (spill == null && (long) (count + 1) * exampleBytes > heapBudget) {
            startSpilling();
        }
        if (spill != null) {
            spillBuffer().put(values, offset, exampleValues);
        } else {
            if (count % perChunk == 0) {
                byteChunks.add(new byte[perChunk * exampleValues]);
            }
            System.arraycopy(values, offset, byteChunks.get(count / perChunk), (count % perChunk) * exampleValues,
                    exampleValues);
        }
        addLabel(label);
    }

    /** Adds an example of floats. */
    void add(float[] values, int label) {
        if (type != Store.Type.FLOAT32) {
            throw new IllegalStateException("a byte store takes bytes");
        }
        if (spill == null && (long) (count + 1) * exampleBytes > heapBudget) {
            startSpilling();
        }
        if (spill != null) {
            spillBuffer().asFloatBuffer().put(values, 0, exampleValues);
            spillBuffer.position(spillBuffer.position() + exampleBytes);
        } else {
            if (count % perChunk == 0) {
                floatChunks.add(new float[perChunk * exampleValues]);
            }
            System.arraycopy(values, 0, floatChunks.get(count / perChunk), (count % perChunk) * exampleValues,
                    exampleValues);
        }
        addLabel(label);
    }

    private void addLabel(int label) {
        if (count == labels.length) {
            labels = Arrays.copyOf(labels, labels.length * 2);
        }
        labels[count++] = label;
    }

    /** The store of the examples added, on the heap or mapped from the spill file. */
    Store build() {
        int[] exact = Arrays.copyOf(labels, count);
        try {
            if (spill == null) {
                Object[] chunks = new Object[Math.max(1, (count + perChunk - 1) / perChunk)];
                for (int i = 0; i < chunks.length; i++) {
                    int n = Math.min(perChunk, count - i * perChunk) * exampleValues;
                    chunks[i] = type == Store.Type.UINT8
                            ? ByteBuffer.wrap(byteChunks.isEmpty() ? new byte[0] : byteChunks.get(i), 0, n).slice()
                            : FloatBuffer.wrap(floatChunks.isEmpty() ? new float[0] : floatChunks.get(i), 0, n).slice();
                }
                return new Store(type, exampleValues, perChunk, chunks, exact, false);
            }
            flush();
            int mapPerChunk = (int) Math.max(1, MAP_BYTES / exampleBytes);
            Object[] chunks = new Object[Math.max(1, (count + mapPerChunk - 1) / mapPerChunk)];
            for (int i = 0; i < chunks.length; i++) {
                long from = (long) i * mapPerChunk * exampleBytes;
                long length = (long) Math.min(mapPerChunk, count - i * mapPerChunk) * exampleBytes;
                MappedByteBuffer mapped = spill.map(FileChannel.MapMode.READ_ONLY, from, length);
                mapped.order(ByteOrder.nativeOrder());
                chunks[i] = type == Store.Type.UINT8 ? mapped : mapped.asFloatBuffer();
            }
            return new Store(type, exampleValues, mapPerChunk, chunks, exact, true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map the data set's spill file " + spillFile + ": " + e, e);
        } finally {
            close();
        }
    }

    /** Deletes the spill file, if any (a mapping made of it stays valid). */
    @Override
    public void close() {
        try {
            if (spill != null) {
                spill.close();
            }
            if (spillFile != null) {
                Files.deleteIfExists(spillFile);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void startSpilling() {
        try {
            Files.createDirectories(spillDir);
            spillFile = Files.createTempFile(spillDir, "dataset-", ".bin");
            spill = FileChannel.open(spillFile, StandardOpenOption.READ, StandardOpenOption.WRITE);
            spillBuffer = ByteBuffer.allocate(Math.max(exampleBytes, 1 << 20)).order(ByteOrder.nativeOrder());
            for (int i = 0; i < count; i++) {
                ByteBuffer b = spillBuffer();
                int at = (i % perChunk) * exampleValues;
                if (type == Store.Type.UINT8) {
                    b.put(byteChunks.get(i / perChunk), at, exampleValues);
                } else {
                    b.asFloatBuffer().put(floatChunks.get(i / perChunk), at, exampleValues);
                    b.position(b.position() + exampleBytes);
                }
            }
            byteChunks.clear();
            floatChunks.clear();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the data set to " + spillDir + " to stream it: " + e
                    + " (fix: give the worker a writable work directory with room for it, or a larger data budget)", e);
        }
    }

    /** The spill buffer with room for one more example, flushed to the file first if need be. */
    private ByteBuffer spillBuffer() {
        if (spillBuffer.remaining() < exampleBytes) {
            flush();
        }
        return spillBuffer;
    }

    private void flush() {
        spillBuffer.flip();
        try {
            while (spillBuffer.hasRemaining()) {
                spill.write(spillBuffer);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the data set to " + spillFile + ": " + e
                    + " (fix: free disk space under the worker's work directory)", e);
        }
        spillBuffer.clear();
    }
}
