package dev.shears.trainer.data;

import dev.shears.common.data.DataShape;
import dev.shears.common.data.InputShape;
import java.util.List;

/**
 * Some examples of a loaded data set, such as its validation split: a view of rows of a split's
 * stored values, shared, never copied. Values read from it are as stored (pixels in [0, 1]);
 * {@link Batches} normalises them as it stages a batch.
 *
 * <p>Immutable and thread-safe.
 */
public final class Examples {

    private final Store store;
    private final int[] rows;
    private final DataShape shape;
    private final List<String> classNames;

    Examples(Store store, int[] rows, DataShape shape, List<String> classNames) {
        this.store = store;
        this.rows = rows;
        this.shape = shape;
        this.classNames = classNames;
    }

    /**
     * The same examples as flat vectors of {@code channels x height x width} features (channel by channel, as PyTorch's
     * {@code flatten}), for models that read a flat input: batches of them are {@code [batch, features]}. Features
     * stay features.
     */
    public Examples flat() {
        InputShape input = shape.input();
        return input.isImage() ? new Examples(store, rows, new DataShape(InputShape.features(input.size()),
                shape.classes()), classNames) : this;
    }

    /** The number of examples. */
    public int size() {
        return rows == null ? store.size() : rows.length;
    }

    /** The shape of an example and the number of classes. */
    public DataShape shape() {
        return shape;
    }

    /** The class names, by label. */
    public List<String> classNames() {
        return classNames;
    }

    /** The class of example {@code i}, in [0, classes). */
    public int label(int i) {
        return store.label(rows == null ? i : rows[i]);
    }

    /** The position of example {@code i} in its split's files. */
    int row(int i) {
        return rows == null ? i : rows[i];
    }

    /** Writes example {@code i}'s values as stored into {@code dst} from {@code offset}; see {@link Store#read}. */
    void read(int i, float[] dst, int offset, byte[] scratch) {
        store.read(row(i), dst, offset, scratch);
    }

    /** Whether the values are stored as bytes (pixels), which {@link #readBytes} reads raw. */
    boolean isBytes() {
        return store.type() == Store.Type.UINT8;
    }

    /**
     * Writes example {@code i}'s stored bytes into {@code dst} from 0; each reads as {@link Store#pixel}.
     * Only where {@link #isBytes()}.
     */
    void readBytes(int i, byte[] dst) {
        store.readBytes(row(i), dst);
    }

    @Override
    public String toString() {
        return "Examples[" + size() + " of " + shape.input() + "]";
    }
}
