package dev.shears.trainer.data;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * The examples of one split of a loaded data set, as read from its files and never changed: raw
 * values (image pixels as unsigned bytes, CSV features as floats) in chunks of whole examples,
 * held on the heap or memory-mapped from a file that the operating system pages in as batches
 * need it; and the labels, always on the heap.
 *
 * <p>Immutable and safe to read from many threads: every read is absolute, no buffer position
 * is ever moved.
 */
final class Store {

    /** How a value is stored. */
    enum Type {
        /** An unsigned byte, read as {@code b / 255f} (pixels). */
        UINT8(1),
        /** A float, read as it is (features). */
        FLOAT32(4);

        final int bytes;

        Type(int bytes) {
            this.bytes = bytes;
        }
    }

    private final Type type;
    private final int exampleValues;
    private final int examplesPerChunk;
    private final ByteBuffer[] bytes;
    private final FloatBuffer[] floats;
    private final int[] labels;
    private final boolean mapped;

    /**
     * @param chunks  per chunk, {@code examplesPerChunk} examples (fewer in the last), read-only
     *                views; byte buffers for {@link Type#UINT8}, float buffers for
     *                {@link Type#FLOAT32}
     * @param labels  one class per example
     * @param mapped  whether the chunks are mapped from a file rather than on the heap
     */
    Store(Type type, int exampleValues, int examplesPerChunk, Object[] chunks, int[] labels, boolean mapped) {
        this.type = type;
        this.exampleValues = exampleValues;
        this.examplesPerChunk = examplesPerChunk;
        this.labels = labels;
        this.mapped = mapped;
        if (type == Type.UINT8) {
            bytes = new ByteBuffer[chunks.length];
            floats = null;
            for (int i = 0; i < chunks.length; i++) {
                bytes[i] = ((ByteBuffer) chunks[i]).asReadOnlyBuffer();
            }
        } else {
            bytes = null;
            floats = new FloatBuffer[chunks.length];
            for (int i = 0; i < chunks.length; i++) {
                floats[i] = ((FloatBuffer) chunks[i]).asReadOnlyBuffer();
            }
        }
    }

    /** A store over {@code values} on the heap, not copied: the caller must never write into them. */
    static Store wrap(float[] values, int exampleValues, int[] labels) {
        return new Store(Type.FLOAT32, exampleValues, Math.max(1, labels.length),
                new Object[]{FloatBuffer.wrap(values)}, labels, false);
    }

    int size() {
        return labels.length;
    }

    int exampleValues() {
        return exampleValues;
    }

    Type type() {
        return type;
    }

    int label(int example) {
        return labels[example];
    }

    /** Whether the values are mapped from a file (streamed) rather than held on the heap. */
    boolean isMapped() {
        return mapped;
    }

    /** The heap bytes this store holds: its values unless mapped, and its labels. */
    long heapBytes() {
        return (mapped ? 0 : (long) size() * exampleValues * type.bytes) + 4L * labels.length;
    }

    /**
     * Writes example {@code example}'s values into {@code dst} from {@code offset}: pixels scaled to
     * [0, 1] as {@code b / 255f}, features as stored. {@code scratch} holds at least
     * {@link #exampleValues()} bytes (unused for floats).
     */
    void read(int example, float[] dst, int offset, byte[] scratch) {
        if (type == Type.UINT8) {
            readBytes(example, scratch);
            for (int i = 0; i < exampleValues; i++) {
                dst[offset + i] = pixel(scratch[i] & 0xff);
            }
        } else {
            floats[example / examplesPerChunk].get((example % examplesPerChunk) * exampleValues, dst, offset,
                    exampleValues);
        }
    }

    /** A stored byte {@code b} (0 to 255) as the value it reads as: {@code b / 255f}. */
    static float pixel(int b) {
        return b / 255f;
    }

    /** Writes example {@code example}'s raw bytes into {@code dst} from 0; only for {@link Type#UINT8}. */
    void readBytes(int example, byte[] dst) {
        bytes[example / examplesPerChunk].get((example % examplesPerChunk) * exampleValues, dst, 0, exampleValues);
    }
}
