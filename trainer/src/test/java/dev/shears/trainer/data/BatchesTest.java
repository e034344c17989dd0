package dev.shears.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shears.common.data.DataShape;
import dev.shears.common.data.InputShape;
import dev.shears.common.data.Normalization;
import dev.shears.common.recipe.Augmentation;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.indexing.NDArrayIndex;

class BatchesTest {

    /** 100 examples; example i has i/128 as its first feature (exact in float) and label i % 10. */
    private static final Examples NUMBERED = numbered(100);

    private static final int[] PINNED_SEED42_EPOCH0 = {5, 9, 0, 3, 1, 2, 6, 4, 7, 8};

    @Test
    void aBatchOfImagesIsNchwWithOneHotLabels() {
        Examples test = Subset.load().testExamples();
        DataSet batch = inOrder(test, 64).next();

        assertThat(batch.getFeatures().shape()).containsExactly(64, 1, 28, 28);
        assertThat(batch.getLabels().shape()).containsExactly(64, 10);
        assertThat(batch.getFeatures().dataType()).isEqualTo(DataType.FLOAT);
        assertThat(batch.getLabels().dataType()).isEqualTo(DataType.FLOAT);
        assertThat(batch.getFeatures().get(NDArrayIndex.point(1)).dup().data().asFloat())
                .containsExactly(Subset.values(test, 1));
        assertThat(batch.getLabels().sum(1).toFloatVector()).containsOnly(1f);
        assertThat(batch.getLabels().argMax(1).toIntVector())
                .containsExactly(IntStream.range(0, 64).map(test::label).toArray());
    }

    @Test
    void anEpochVisitsEveryExampleOnceWithASmallerLastBatch() {
        Batches batches = shuffled(NUMBERED, 32, 7);

        assertThat(batches.batchesPerEpoch()).isEqualTo(4);
        List<Integer> seen = new ArrayList<>();
        List<Integer> sizes = new ArrayList<>();
        for (int b = 0; b < batches.batchesPerEpoch(); b++) {
            DataSet batch = batches.next();
            sizes.add(batch.numExamples());
            seen.addAll(ids(batch));
        }

        assertThat(sizes).containsExactly(32, 32, 32, 4);
        assertThat(seen).containsExactlyInAnyOrderElementsOf(range(100));
        assertThat(seen).isNotEqualTo(range(100));
    }

    @Test
    void labelsTravelWithTheirImagesInEveryBatch() {
        Batches batches = shuffled(NUMBERED, 32, 3);

        for (int b = 0; b < 2 * batches.batchesPerEpoch(); b++) {
            DataSet batch = batches.next();
            List<Integer> ids = ids(batch);
            int[] labels = batch.getLabels().argMax(1).toIntVector();
            assertThat(batch.getLabels().sum(1).toFloatVector()).containsOnly(1f);
            for (int row = 0; row < ids.size(); row++) {
                assertThat(labels[row]).isEqualTo(ids.get(row) % 10);
            }
        }
    }

    @Test
    void aBatchKeepsItsContentWhenLaterBatchesAreMade() {
        Batches batches = shuffled(NUMBERED, 32, 3);
        DataSet first = batches.next();
        DataSet copy = first.copy();

        batches.next();
        batches.epoch(0).next();

        assertThat(first.getFeatures()).isEqualTo(copy.getFeatures());
        assertThat(first.getLabels()).isEqualTo(copy.getLabels());
    }

    @Test
    void theSameSeedGivesTheSameOrderEveryRun() {
        assertThat(epochIds(shuffled(NUMBERED, 10, 42), 3))
                .isEqualTo(epochIds(shuffled(NUMBERED, 10, 42), 3));
    }

    @Test
    void eachEpochAndEachSeedHasItsOwnOrder() {
        List<List<Integer>> seed42 = epochIds(shuffled(NUMBERED, 10, 42), 2);
        List<List<Integer>> seed43 = epochIds(shuffled(NUMBERED, 10, 43), 1);

        assertThat(seed42.get(0)).isNotEqualTo(seed42.get(1));
        assertThat(seed42.get(0)).isNotEqualTo(seed43.get(0));
    }

    @Test
    void theOrderIsPinnedSoSavedPositionsStayValid() {
        // Computed by a Python transcription of the algorithm. A change here invalidates every checkpoint's position: change the algorithm only on purpose.
        assertThat(Shuffle.order(10, 42, 0)).containsExactly(PINNED_SEED42_EPOCH0);
    }

    @Test
    void inOrderKeepsTheSplitOrderEveryEpoch() {
        List<List<Integer>> epochs = epochIds(inOrder(NUMBERED, 30), 2);

        assertThat(epochs.get(0)).isEqualTo(range(100));
        assertThat(epochs.get(1)).isEqualTo(range(100));
    }

    @Test
    void thePositionNamesTheNextBatchAndWrapsIntoTheNextEpoch() {
        Batches batches = shuffled(NUMBERED, 32, 1);
        assertThat(batches.position()).isEqualTo(Batches.Position.START);

        batches.next();
        assertThat(batches.position()).isEqualTo(new Batches.Position(0, 1));
        batches.next();
        batches.next();
        batches.next();
        assertThat(batches.position()).isEqualTo(new Batches.Position(1, 0));
    }

    @Test
    void seekingToASavedPositionContinuesWithTheSameBatches() {
        Batches original = shuffled(Subset.load().trainExamples(), 64, 2024);
        for (int i = 0; i < 30; i++) {
            original.next();
        }
        Batches.Position saved = original.position();
        List<DataSet> expected = new ArrayList<>();
        for (int i = 0; i < 5; i++) { // 30..34 crosses from epoch 0 (32 batches) into epoch 1
            expected.add(original.next());
        }

        Batches resumed = shuffled(Subset.load().trainExamples(), 64, 2024);
        resumed.seek(saved);

        assertThat(saved).isEqualTo(new Batches.Position(0, 30));
        for (DataSet batch : expected) {
            DataSet actual = resumed.next();
            assertThat(actual.getFeatures()).isEqualTo(batch.getFeatures());
            assertThat(actual.getLabels()).isEqualTo(batch.getLabels());
        }
        assertThat(resumed.position()).isEqualTo(original.position()).isEqualTo(new Batches.Position(1, 3));
    }

    @Test
    void seekingBeyondTheEndOfAnEpochIsRejectedWithTheValidRange() {
        Batches batches = shuffled(NUMBERED, 32, 1);

        assertThatThrownBy(() -> batches.seek(new Batches.Position(0, 4)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("batch index 4 is out of range")
                .hasMessageContaining("indices [0, 4)");
    }

    @Test
    void aPositionCannotBeNegative() {
        assertThatThrownBy(() -> new Batches.Position(-1, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("epoch -1");
    }

    @Test
    void aBatchSizeBelowOneIsRejected() {
        assertThatThrownBy(() -> shuffled(NUMBERED, 0, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("batch size 0 is out of range");
    }

    @Test
    void theEpochIteratorGivesThatEpochsBatchesAndRestartsOnReset() {
        Batches stream = shuffled(NUMBERED, 32, 9);
        epochIds(stream, 1);
        List<Integer> secondEpoch = epochIds(stream, 1).get(0);

        DataSetIterator iterator = shuffled(NUMBERED, 32, 9).epoch(1);
        List<Integer> first = drain(iterator);
        iterator.reset();
        List<Integer> again = drain(iterator);

        assertThat(first).isEqualTo(secondEpoch).isEqualTo(again);
        assertThat(iterator.hasNext()).isFalse();
        assertThat(iterator.inputColumns()).isEqualTo(784);
        assertThat(iterator.totalOutcomes()).isEqualTo(10);
        assertThat(iterator.getLabels()).hasSize(10);
    }

    @Test
    void storedBytesAreStagedAsTheirNormalisedValuesToTheBit() {
        // Every byte value in each of three channels, normalised per channel, as an image and as a flat vector of
        // 768 features whose three distinct normalisations repeat: the look-up must give what (b / 255f - m) / s does.
        Examples image = everyByte();
        Normalization perChannel = new Normalization(List.of(0.2860, 0.5, 0.0), List.of(0.3530, 0.25, 1.0));
        Normalization perFeature = new Normalization(
                IntStream.range(0, 768).mapToObj(i -> perChannel.mean().get(i / 256)).toList(),
                IntStream.range(0, 768).mapToObj(i -> perChannel.std().get(i / 256)).toList());

        float[] staged = Batches.inOrder(image, perChannel, 1).next().getFeatures().data().asFloat();
        float[] flat = Batches.inOrder(image.flat(), perFeature, 1).next().getFeatures().data().asFloat();
        float[] raw = Batches.inOrder(image, null, 1).next().getFeatures().data().asFloat();

        float[] expected = new float[768];
        float[] asStored = new float[768];
        for (int i = 0; i < 768; i++) {
            int b = (i + 7 * (i / 256)) % 256;
            asStored[i] = b / 255f;
            float m = perChannel.mean().get(i / 256).floatValue();
            float s = perChannel.std().get(i / 256).floatValue();
            expected[i] = (asStored[i] - m) / s;
        }
        assertThat(staged).containsExactly(expected);
        assertThat(flat).containsExactly(expected);
        assertThat(raw).containsExactly(asStored);
    }

    /** One 3x16x16 image of bytes in which each channel holds each value 0..255 once, rotated by 7 per channel. */
    private static Examples everyByte() {
        ByteBuffer bytes = ByteBuffer.allocate(768);
        for (int i = 0; i < 768; i++) {
            bytes.put(i, (byte) ((i + 7 * (i / 256)) % 256));
        }
        Store store = new Store(Store.Type.UINT8, 768, 1, new Object[]{bytes}, new int[]{0}, false);
        return new Examples(store, null, new DataShape(InputShape.image(3, 16, 16), 2), List.of("a", "b"));
    }

    /** {@code size} examples of 784 features; example i has i/128 as its first feature (exact in float), label i % 10. */
    private static Examples numbered(int size) {
        float[] values = new float[size * 784];
        int[] labels = new int[size];
        for (int i = 0; i < size; i++) {
            values[i * 784] = i / 128f;
            labels[i] = i % 10;
        }
        return new Examples(Store.wrap(values, 784, labels), null, new DataShape(InputShape.features(784), 10),
                IntStream.range(0, 10).mapToObj(Integer::toString).toList());
    }

    /** Batches of values as stored, without normalisation or augmentation. */
    private static Batches shuffled(Examples examples, int batchSize, long seed) {
        return Batches.shuffled(examples, null, batchSize, seed, Augmentation.NONE);
    }

    private static Batches inOrder(Examples examples, int batchSize) {
        return Batches.inOrder(examples, null, batchSize);
    }

    private static List<Integer> ids(DataSet batch) {
        INDArray firstPixels = batch.getFeatures().getColumn(0);
        List<Integer> ids = new ArrayList<>();
        for (float pixel : firstPixels.toFloatVector()) {
            ids.add(Math.round(pixel * 128));
        }
        return ids;
    }

    private static List<List<Integer>> epochIds(Batches batches, int epochs) {
        List<List<Integer>> result = new ArrayList<>();
        for (int e = 0; e < epochs; e++) {
            List<Integer> epoch = new ArrayList<>();
            for (int b = 0; b < batches.batchesPerEpoch(); b++) {
                epoch.addAll(ids(batches.next()));
            }
            result.add(epoch);
        }
        return result;
    }

    private static List<Integer> drain(DataSetIterator iterator) {
        List<Integer> ids = new ArrayList<>();
        while (iterator.hasNext()) {
            ids.addAll(ids(iterator.next()));
        }
        return ids;
    }

    private static List<Integer> range(int size) {
        return IntStream.range(0, size).boxed().toList();
    }
}
