package dev.shears.trainer.data;

import dev.shears.common.data.InputShape;
import dev.shears.common.data.Normalization;
import dev.shears.common.recipe.Augmentation;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An endless stream of mini-batches over some examples, epoch after epoch, with a position that
 * can be saved after any batch and restored to continue exactly where it stopped.
 *
 * <p>Each epoch visits every example once; the last batch of an epoch is smaller when the batch
 * size does not divide the examples. With {@link #shuffled} the order of epoch {@code e}, and each
 * example's augmentation in it, depend only on (seed, e), so a restored position yields the very
 * batches the original run would have, bit for bit.
 *
 * <p>A batch is a {@link DataSet} of FLOAT features shaped for the model, {@code [batch, C, H, W]}
 * for images and {@code [batch, F]} for features, each value normalised as
 * {@code (x - mean[c]) / std[c]} while it is staged (the shared examples are never written), and
 * one-hot FLOAT labels {@code [batch, classes]}. Each batch owns fresh arrays.
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

    /** The most look-up tables of byte values a stream keeps (1 KiB each); more distinct channels are computed. */
    private static final int MAX_LEVEL_TABLES = 64;

    private final Examples examples;
    private final InputShape shape;
    private final int classes;
    private final int batchSize;
    private final long seed;
    private final boolean shuffle;
    private final Augmentation augmentation;
    private final float[] mean;
    private final float[] std;
    /** For byte examples, per channel the staged value of each stored byte; null for float examples. */
    private final float[][] levels;
    private final int batchesPerEpoch;

    private int epoch;
    private int batchIndex;
    private int[] order;
    private int orderEpoch = -1;
    /** The examples' own order, for batches in order; made on first use. */
    private int[] ownOrder;
    private final float[] stagedFeatures;
    private final float[] stagedLabels;
    private final float[] image;
    private final byte[] scratch;

    private Batches(Examples examples, Normalization normalization, int batchSize, long seed, boolean shuffle,
            Augmentation augmentation) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size " + batchSize + " is out of range: it must be >= 1");
        }
        if (examples.size() == 0) {
            throw new IllegalArgumentException("the split is empty: there is nothing to batch");
        }
        this.examples = examples;
        this.shape = examples.shape().input();
        this.classes = examples.shape().classes();
        if (augmentation.isActive() && !shape.isImage()) {
            throw new IllegalArgumentException("augmentation " + augmentation + " applies to images, and these"
                    + " examples are " + shape + " (fix: no augmentation for tabular data)");
        }
        if (normalization != null && normalization.channels() != shape.channels()) {
            throw new IllegalArgumentException("a normalisation of " + normalization.channels() + " channels cannot"
                    + " apply to examples of " + shape);
        }
        this.batchSize = batchSize;
        this.seed = seed;
        this.shuffle = shuffle;
        this.augmentation = augmentation;
        this.mean = normalization == null ? null : floats(normalization.mean());
        this.std = normalization == null ? null : floats(normalization.std());
        this.levels = examples.isBytes() ? levels(shape.channels(), mean, std) : null;
        this.batchesPerEpoch = (examples.size() + batchSize - 1) / batchSize;
        int rows = Math.min(batchSize, examples.size());
        stagedFeatures = new float[rows * shape.size()];
        stagedLabels = new float[rows * classes];
        image = augmentation.isActive() ? new float[shape.size()] : null;
        scratch = new byte[shape.size()];
    }

    /**
     * Batches in a new random order each epoch, the order of epoch {@code e} and each example's
     * augmentation in it fixed by {@code (seed, e)}. Starts at {@link Position#START}.
     *
     * @param normalization applied to every value as it is staged
     * @param augmentation  random crops and flips of images; {@link Augmentation#NONE} for none
     * @throws IllegalArgumentException if {@code batchSize < 1}, the examples are none, the
     *                                  normalisation has another number of channels, or
     *                                  augmentation is asked of examples that are not images
     */
    public static Batches shuffled(Examples examples, Normalization normalization, int batchSize, long seed,
            Augmentation augmentation) {
        return new Batches(examples, normalization, batchSize, seed, true, augmentation);
    }

    /**
     * Batches in the examples' own order, every epoch alike, never augmented: for evaluation.
     * Starts at {@link Position#START}.
     *
     * @throws IllegalArgumentException as {@link #shuffled}
     */
    public static Batches inOrder(Examples examples, Normalization normalization, int batchSize) {
        return new Batches(examples, normalization, batchSize, 0, false, Augmentation.NONE);
    }

    /** Returns the batch at {@link #position()} and moves past it (to the next epoch after its last batch). */
    public DataSet next() {
        if (orderEpoch != epoch) {
            order = orderOf(epoch);
            orderEpoch = epoch;
        }
        DataSet batch = batch(order, epoch, batchIndex);
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
                    + "an epoch of " + examples.size() + " examples has " + batchesPerEpoch
                    + " batches of " + batchSize + ", indices [0, " + batchesPerEpoch + ")"
                    + "; was the position saved with another batch size or dataset?");
        }
        this.epoch = position.epoch();
        this.batchIndex = position.batchIndex();
    }

    /** The number of batches in an epoch: the examples divided by the batch size, rounded up. */
    public int batchesPerEpoch() {
        return batchesPerEpoch;
    }

    /** The size of every batch but perhaps the last of an epoch. */
    public int batchSize() {
        return batchSize;
    }

    /** The examples batched. */
    public Examples examples() {
        return examples;
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

    /** The order of the examples in {@code epoch}: shuffled, or the examples' own (one array, shared). */
    int[] orderOf(int epoch) {
        if (shuffle) {
            return Shuffle.order(examples.size(), seed, epoch);
        }
        if (ownOrder == null) {
            ownOrder = IntStream.range(0, examples.size()).toArray();
        }
        return ownOrder;
    }

    /** Batch {@code index} of epoch {@code epoch}, whose order is {@code order}. */
    DataSet batch(int[] order, int epoch, int index) {
        int from = index * batchSize;
        int rows = Math.min(batchSize, examples.size() - from);
        int size = shape.size();
        // Staging arrays on the heap, reused but for a short last batch: ND4J copies them off-heap.
        boolean full = rows * size == stagedFeatures.length;
        float[] features = full ? stagedFeatures : new float[rows * size];
        float[] oneHot = full ? stagedLabels : new float[rows * classes];
        if (full) {
            Arrays.fill(oneHot, 0f);
        }
        // One loop per case, and no test inside that is the same for every row (evaluation's order was null): C2
        // hoists such tests out of a loop as predicates from the profile, and training's batches and evaluation's
        // then failed them in turn. In a LeNet-5 job (JFR's jdk.Deoptimization and jdk.Compilation) that took five
        // deoptimizations (predicate, profile_predicate) and two more C2 compilations of this method, 8 in all and
        // 2.0 s of compilation (JFR durations); now none, 6 and 1.3 s.
        if (image == null) {
            for (int row = 0; row < rows; row++) {
                int example = order[from + row];
                stage(example, features, row * size);
                oneHot[row * classes + examples.label(example)] = 1f;
            }
        } else {
            for (int row = 0; row < rows; row++) {
                int example = order[from + row];
                stage(example, image, 0);
                augment(Shuffle.draw(seed, epoch, examples.row(example)), features, row * size);
                oneHot[row * classes + examples.label(example)] = 1f;
            }
        }
        return new DataSet(array(features, shape.batchShape(rows)), array(oneHot, new long[]{rows, classes}));
    }

    /**
     * A new FLOAT array of {@code shape} holding {@code values}, outside any workspace (a batch made inside a training
     * loop's workspace would die with it). On the CPU one bulk copy: ND4J's {@code create(float[])} puts element by
     * element, half of what a batch cost.
     */
    private static INDArray array(float[] values, long[] shape) {
        if (Nd4j.getEnvironment().isCPU()) {
            INDArray array = Nd4j.createUninitializedDetached(DataType.FLOAT, shape);
            array.data().asNioFloat().put(values);
            return array;
        }
        MemoryWorkspace outside = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces();
        try {
            return Nd4j.create(values, shape, DataType.FLOAT);
        } finally {
            outside.close();
        }
    }

    /**
     * Per channel, the staged value of each of the 256 stored bytes: {@code (b / 255f - mean[c]) / std[c]}, the same
     * float operations as reading and normalising each value, so a look-up gives the very same bits. Channels of the
     * same mean and std share a table; null (read and normalise each value) past {@value #MAX_LEVEL_TABLES} tables.
     */
    private static float[][] levels(int channels, float[] mean, float[] std) {
        float[][] levels = new float[channels][];
        Map<List<Float>, float[]> tables = new HashMap<>();
        for (int c = 0; c < channels; c++) {
            float m = mean == null ? 0f : mean[c];
            float s = std == null ? 1f : std[c];
            levels[c] = tables.computeIfAbsent(List.of(m, s), k -> {
                float[] table = new float[256];
                for (int b = 0; b < 256; b++) {
                    table[b] = mean == null ? Store.pixel(b) : (Store.pixel(b) - m) / s;
                }
                return table;
            });
            if (tables.size() > MAX_LEVEL_TABLES) {
                return null;
            }
        }
        return levels;
    }

    /** Reads example {@code example} into {@code dst} from {@code offset}, normalised. */
    private void stage(int example, float[] dst, int offset) {
        if (levels != null) {
            examples.readBytes(example, scratch);
            int plane = shape.channelSize();
            for (int c = 0; c < levels.length; c++) {
                float[] level = levels[c];
                int from = c * plane;
                for (int i = 0; i < plane; i++) {
                    dst[offset + from + i] = level[scratch[from + i] & 0xff];
                }
            }
            return;
        }
        examples.read(example, dst, offset, scratch);
        if (mean == null) {
            return;
        }
        int plane = shape.channelSize();
        for (int c = 0; c < mean.length; c++) {
            float m = mean[c];
            float s = std[c];
            int end = offset + (c + 1) * plane;
            for (int i = offset + c * plane; i < end; i++) {
                dst[i] = (dst[i] - m) / s;
            }
        }
    }

    /**
     * Copies the staged {@link #image} into {@code dst} shifted by a random crop of the image padded
     * with black (raw 0, normalised) and perhaps mirrored, as {@code random} draws them.
     */
    private void augment(long random, float[] dst, int offset) {
        int pad = augmentation.crop();
        int dy = pad == 0 ? 0 : (int) Long.remainderUnsigned(random, 2L * pad + 1) - pad;
        int dx = pad == 0 ? 0 : (int) Long.remainderUnsigned(random >>> 20, 2L * pad + 1) - pad;
        boolean flip = augmentation.flip() && (random >>> 63) != 0;
        int h = shape.height();
        int w = shape.width();
        int plane = h * w;
        for (int c = 0; c < shape.channels(); c++) {
            float black = mean == null ? 0f : (0f - mean[c]) / std[c];
            for (int y = 0; y < h; y++) {
                int sy = y + dy;
                int out = offset + c * plane + y * w;
                for (int x = 0; x < w; x++) {
                    int sx = (flip ? w - 1 - x : x) + dx;
                    dst[out + x] = sy < 0 || sy >= h || sx < 0 || sx >= w ? black : image[c * plane + sy * w + sx];
                }
            }
        }
    }

    private static float[] floats(List<Double> values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i).floatValue();
        }
        return out;
    }
}
