package dev.shears.trainer.data;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An endless stream of mini-batches over a split, epoch after epoch, with a position that can be
 * saved after any batch and restored to continue exactly where it stopped.
 *
 * <p>Each epoch visits every example once; the last batch of an epoch is smaller when the batch
 * size does not divide the split. With {@link #shuffled} the order of epoch {@code e} depends
 * only on (seed, e), so a restored position yields the very batches the original run would have.
 *
 * <p>A batch is a {@link DataSet} with features {@code [batch, 784]} (FLOAT, pixels in [0, 1],
 * row-major: feed it to a model built with {@code InputType.convolutionalFlat(28, 28, 1)} or
 * {@code InputType.feedForward(784)}) and one-hot labels {@code [batch, 10]} (FLOAT). Each batch
 * owns fresh arrays.
 *
 * <p>Not thread-safe, nor are the iterators of {@link #epoch}: they share its staging arrays.
 */
public final class Batches {

    /**
     * Where a stream of batches stands: the next batch is batch {@code batchIndex} of epoch
     * {@code epoch}.
     *
     * @param epoch      the epoch, from 0
     * @param batchIndex the batch within the epoch, from 0
     */
    public record Position(int epoch, int batchIndex) {

        /** The first batch of the first epoch. */
        public static final Position START = new Position(0, 0);

        /** @throws IllegalArgumentException if either is negative */
        public Position {
            if (epoch < 0 || batchIndex < 0) {
                throw new IllegalArgumentException("position (epoch " + epoch + ", batch " + batchIndex
                        + ") is out of range: both must be >= 0");
            }
        }
    }

    private final Split split;
    private final int batchSize;
    private final long seed;
    private final boolean shuffle;
    private final int batchesPerEpoch;

    private int epoch;
    private int batchIndex;
    private int[] order;
    private int orderEpoch = -1;
    private final float[] stagedFeatures;
    private final float[] stagedLabels;

    private Batches(Split split, int batchSize, long seed, boolean shuffle) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size " + batchSize + " is out of range: it must be >= 1");
        }
        if (split.size() == 0) {
            throw new IllegalArgumentException("the split is empty: there is nothing to batch");
        }
        this.split = split;
        this.batchSize = batchSize;
        this.seed = seed;
        this.shuffle = shuffle;
        this.batchesPerEpoch = (split.size() + batchSize - 1) / batchSize;
        int rows = Math.min(batchSize, split.size());
        stagedFeatures = new float[rows * Split.PIXELS];
        stagedLabels = new float[rows * Split.CLASSES];
    }

    /**
     * Batches in a new random order each epoch, the order of epoch {@code e} fixed by
     * {@code (seed, e)}. Starts at {@link Position#START}.
     *
     * @throws IllegalArgumentException if {@code batchSize < 1} or the split is empty
     */
    public static Batches shuffled(Split split, int batchSize, long seed) {
        return new Batches(split, batchSize, seed, true);
    }

    /**
     * Batches in the split's own order, every epoch alike: for evaluation. Starts at
     * {@link Position#START}.
     *
     * @throws IllegalArgumentException if {@code batchSize < 1} or the split is empty
     */
    public static Batches inOrder(Split split, int batchSize) {
        return new Batches(split, batchSize, 0, false);
    }

    /** Returns the batch at {@link #position()} and moves past it (to the next epoch after its last batch). */
    public DataSet next() {
        if (orderEpoch != epoch) {
            order = orderOf(epoch);
            orderEpoch = epoch;
        }
        DataSet batch = batch(order, batchIndex);
        if (++batchIndex == batchesPerEpoch) {
            batchIndex = 0;
            epoch++;
        }
        return batch;
    }

    /** The position of the batch that {@link #next()} returns next. */
    public Position position() {
        return new Position(epoch, batchIndex);
    }

    /**
     * Moves to {@code position}: the next batch is the one a stream that had arrived there would
     * return.
     *
     * @throws IllegalArgumentException if the batch index is not below {@link #batchesPerEpoch()}
     */
    public void seek(Position position) {
        if (position.batchIndex() >= batchesPerEpoch) {
            throw new IllegalArgumentException("batch index " + position.batchIndex() + " is out of range: "
                    + "an epoch of " + split.size() + " examples has " + batchesPerEpoch
                    + " batches of " + batchSize + ", indices [0, " + batchesPerEpoch + ")"
                    + "; was the position saved with another batch size or dataset?");
        }
        this.epoch = position.epoch();
        this.batchIndex = position.batchIndex();
    }

    /** The number of batches in an epoch: the split's size divided by the batch size, rounded up. */
    public int batchesPerEpoch() {
        return batchesPerEpoch;
    }

    /** The size of every batch but perhaps the last of an epoch. */
    public int batchSize() {
        return batchSize;
    }

    /** The split batched. */
    public Split split() {
        return split;
    }

    /**
     * A DL4J iterator over the batches of one epoch, in that epoch's order, for
     * {@code fit(DataSetIterator)} or {@code evaluate(DataSetIterator)}. It does not move, and is
     * not moved by, this stream; {@code reset()} restarts the epoch.
     *
     * @throws IllegalArgumentException if {@code epoch < 0}
     */
    public DataSetIterator epoch(int epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch " + epoch + " is out of range: it must be >= 0");
        }
        return new EpochIterator(this, epoch);
    }

    /** The order of the examples in {@code epoch}, or null for the split's own order. */
    int[] orderOf(int epoch) {
        return shuffle ? Shuffle.order(split.size(), seed, epoch) : null;
    }

    /** Batch {@code index} of the epoch whose order is {@code order}. */
    DataSet batch(int[] order, int index) {
        int from = index * batchSize;
        int rows = Math.min(batchSize, split.size() - from);
        float[] images = split.images();
        byte[] labels = split.labels();
        // Staging arrays on the heap, reused but for a short last batch: ND4J copies them off-heap.
        boolean full = rows * Split.PIXELS == stagedFeatures.length;
        float[] features = full ? stagedFeatures : new float[rows * Split.PIXELS];
        float[] oneHot = full ? stagedLabels : new float[rows * Split.CLASSES];
        if (full) {
            Arrays.fill(oneHot, 0f);
        }
        for (int row = 0; row < rows; row++) {
            int example = order == null ? from + row : order[from + row];
            System.arraycopy(images, example * Split.PIXELS, features, row * Split.PIXELS, Split.PIXELS);
            oneHot[row * Split.CLASSES + labels[example]] = 1f;
        }
        // Outside any workspace: a batch made inside a training loop's workspace would die with it.
        MemoryWorkspace outside = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces();
        try {
            return new DataSet(
                    Nd4j.create(features, new long[] {rows, Split.PIXELS}, DataType.FLOAT),
                    Nd4j.create(oneHot, new long[] {rows, Split.CLASSES}, DataType.FLOAT));
        } finally {
            outside.close();
        }
    }
}
