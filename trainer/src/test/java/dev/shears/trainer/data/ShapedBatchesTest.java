package dev.shears.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shears.common.data.DataShape;
import dev.shears.common.data.InputShape;
import dev.shears.common.data.Normalization;
import dev.shears.common.recipe.Augmentation;
import dev.shears.common.recipe.ValidationSplit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

/** Batches of any shape: NCHW images, flat features, normalised at staging, augmented reproducibly. */
class ShapedBatchesTest {

    private static final Partition FASHION = Partition.of(PartitionTest.SUBSET, ValidationSplit.count(200), 42,
            Optional.empty());

    /** 4 images of 2x3x3; image i's channel c holds 10i + c at (0, 0) and 0 elsewhere but a 5 at (2, 2). */
    private static Examples corners() {
        int size = 2 * 3 * 3;
        float[] values = new float[4 * size];
        for (int i = 0; i < 4; i++) {
            for (int c = 0; c < 2; c++) {
                values[i * size + c * 9] = 10 * i + c;
                values[i * size + c * 9 + 8] = 5;
            }
        }
        return new Examples(Store.wrap(values, size, new int[]{0, 1, 2, 0}), null,
                new DataShape(InputShape.image(2, 3, 3), 3), List.of("a", "b", "c"));
    }

    @Test
    void imagesComeAsNchwAndLabelsOneHot() {
        DataSet batch = Batches.inOrder(FASHION.test(), FASHION.normalization(), 64).next();

        assertThat(batch.getFeatures().shape()).containsExactly(64, 1, 28, 28);
        assertThat(batch.getLabels().shape()).containsExactly(64, 10);
        assertThat(batch.getLabels().argMax(1).toIntVector()[5]).isEqualTo(FASHION.test().label(5));
    }

    @Test
    void featuresComeAsRows() {
        Examples tabular = new Examples(Store.wrap(new float[]{1, 2, 3, 4, 5, 6}, 3, new int[]{0, 1}), null,
                new DataShape(InputShape.features(3), 2), List.of("x", "y"));

        DataSet batch = Batches.inOrder(tabular, Normalization.uniform(3, 1, 2), 2).next();

        assertThat(batch.getFeatures().shape()).containsExactly(2, 3);
        assertThat(batch.getFeatures().toFloatMatrix()[1]).containsExactly(1.5f, 2f, 2.5f);
    }

    @Test
    void stagingNormalisesEachValueAsPyTorchsNormalizeInFloat() {
        Examples test = Subset.load().testExamples();

        DataSet staged = Batches.inOrder(test, Subset.standard(1), 100).next();

        float mean = (float) Subset.MEAN;
        float std = (float) Subset.STD;
        float[][] expected = new float[100][];
        for (int i = 0; i < 100; i++) {
            expected[i] = Subset.values(test, i);
            for (int j = 0; j < expected[i].length; j++) {
                expected[i][j] = (expected[i][j] - mean) / std;
            }
        }
        assertThat(staged.getFeatures().reshape(100, 784).toFloatMatrix()).isEqualTo(expected);
    }

    @Test
    void theSharedExamplesAreNeverWritten() {
        float[] before = new float[784];
        FASHION.train().read(0, before, 0, new byte[784]);
        Batches batches = Batches.shuffled(FASHION.train(), FASHION.normalization(), 50, 1, new Augmentation(4, true));
        for (int i = 0; i < 40; i++) {
            batches.next();
        }
        float[] after = new float[784];
        FASHION.train().read(0, after, 0, new byte[784]);

        assertThat(after).containsExactly(before);
    }

    @Test
    void aCropShiftsTheImageByAtMostItsPaddingAndFillsWithNormalisedBlack() {
        Normalization n = new Normalization(List.of(1.0, 2.0), List.of(1.0, 1.0));
        Examples corners = corners();
        Batches batches = Batches.shuffled(corners, n, 4, 3, new Augmentation(1, false));
        int shifted = 0;
        for (int epoch = 0; epoch < 5; epoch++) {
            int[] order = batches.orderOf(epoch);
            float[][] seen = batches.next().getFeatures().reshape(4, 18).toFloatMatrix();
            for (int row = 0; row < 4; row++) {
                List<float[]> candidates = new ArrayList<>();
                for (int dy = -1; dy <= 1; dy++) {
                    for (int dx = -1; dx <= 1; dx++) {
                        candidates.add(shift(corners, order[row], n, dy, dx));
                    }
                }
                float[] image = seen[row];
                assertThat(candidates).anySatisfy(c -> assertThat(image).containsExactly(c));
                if (!Arrays.equals(image, candidates.get(4))) {
                    shifted++;
                }
            }
        }
        assertThat(shifted).isPositive();
    }

    /** Example {@code i} normalised and shifted by (dy, dx), black (raw 0) where it leaves the image. */
    private static float[] shift(Examples examples, int i, Normalization n, int dy, int dx) {
        float[] raw = new float[18];
        examples.read(i, raw, 0, new byte[18]);
        float[] out = new float[18];
        for (int c = 0; c < 2; c++) {
            float m = n.mean().get(c).floatValue();
            for (int y = 0; y < 3; y++) {
                for (int x = 0; x < 3; x++) {
                    int sy = y + dy;
                    int sx = x + dx;
                    float v = sy < 0 || sy > 2 || sx < 0 || sx > 2 ? 0 : raw[c * 9 + sy * 3 + sx];
                    out[c * 9 + y * 3 + x] = (v - m) / n.std().get(c).floatValue();
                }
            }
        }
        return out;
    }

    @Test
    void augmentationIsTheSameForAResumedStream() {
        Augmentation both = new Augmentation(4, true);
        Batches original = Batches.shuffled(FASHION.train(), FASHION.normalization(), 64, 9, both);
        List<float[]> expected = new ArrayList<>();
        for (int i = 0; i < 35; i++) {
            DataSet b = original.next();
            if (i >= 30) {
                expected.add(b.getFeatures().data().asFloat());
            }
        }

        Batches resumed = Batches.shuffled(FASHION.train(), FASHION.normalization(), 64, 9, both);
        resumed.seek(new Batches.Position(1, 30 - original.batchesPerEpoch()));

        for (float[] e : expected) {
            assertThat(resumed.next().getFeatures().data().asFloat()).containsExactly(e);
        }
    }

    @Test
    void augmentationChangesImagesAndDiffersByEpoch() {
        Augmentation flip = new Augmentation(0, true);
        Batches plain = Batches.inOrder(FASHION.train(), FASHION.normalization(), 1800);
        float[] original = plain.next().getFeatures().data().asFloat();
        Batches flipped = Batches.shuffled(FASHION.train(), FASHION.normalization(), 1800, 5, flip);

        float[] epoch0 = sortedByExample(flipped, 0);
        float[] epoch1 = sortedByExample(flipped, 1);

        assertThat(epoch0).isNotEqualTo(original);
        assertThat(epoch0).isNotEqualTo(epoch1);
    }

    /** The features of one epoch, put back in the examples' order. */
    private static float[] sortedByExample(Batches batches, int epoch) {
        int[] order = batches.orderOf(epoch);
        float[] shuffled = batches.epoch(epoch).next().getFeatures().data().asFloat();
        float[] out = new float[shuffled.length];
        for (int row = 0; row < order.length; row++) {
            System.arraycopy(shuffled, row * 784, out, order[row] * 784, 784);
        }
        return out;
    }

    @Test
    void augmentationOfFeaturesIsRefused() {
        Examples tabular = new Examples(Store.wrap(new float[]{1, 2}, 1, new int[]{0, 1}), null,
                new DataShape(InputShape.features(1), 2), List.of("x", "y"));

        assertThatThrownBy(() -> Batches.shuffled(tabular, null, 1, 1, new Augmentation(0, true)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("applies to images");
    }
}
