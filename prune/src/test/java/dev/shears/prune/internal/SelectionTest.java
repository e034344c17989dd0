package dev.shears.prune.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SelectionTest {

    @ParameterizedTest
    @ValueSource(longs = {1, 7, 1000, 150_000, 299_999, 300_000})
    void prunesExactlyTheKSmallestMagnitudesAcrossTensors(long k) {
        Random random = new Random(k);
        List<INDArray> values = List.of(randn(random, 100_000), randn(random, 150_000), randn(random, 50_000));
        List<INDArray> masks = values.stream().map(v -> Nd4j.ones(DataType.FLOAT, v.length())).toList();
        Selection.pruneLowest(segments(values, masks), k, Selection.Score.MAGNITUDE, true, 0);

        float[] all = concat(values);
        float[] mask = concat(masks);
        float[] sorted = new float[all.length];
        for (int i = 0; i < all.length; i++) {
            sorted[i] = Math.abs(all[i]);
        }
        Arrays.sort(sorted);
        float kth = sorted[(int) k - 1];
        long pruned = 0;
        for (int i = 0; i < all.length; i++) {
            if (mask[i] == 0f) {
                pruned++;
                assertThat(Math.abs(all[i])).isLessThanOrEqualTo(kth);
            } else {
                assertThat(Math.abs(all[i])).isGreaterThanOrEqualTo(kth);
            }
        }
        assertThat(pruned).isEqualTo(k);
    }

    @Test
    void breaksTiesByPositionAndPrunesExactlyK() {
        INDArray values = Nd4j.createFromArray(new float[]{3, 1, 1, 1, 1, 2, 1, 5});
        INDArray mask = Nd4j.ones(DataType.FLOAT, 8);
        Selection.pruneLowest(segments(List.of(values), List.of(mask)), 3, Selection.Score.MAGNITUDE, true, 0);
        assertThat(mask.data().asFloat()).containsExactly(1, 0, 0, 0, 1, 1, 1, 1);
    }

    @Test
    void restrictedSelectionOnlyPrunesEntriesStillUnpruned() {
        INDArray values = Nd4j.createFromArray(new float[]{0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f});
        INDArray mask = Nd4j.createFromArray(new float[]{0, 0, 1, 1, 1, 1});
        Selection.pruneLowest(segments(List.of(values), List.of(mask)), 2, Selection.Score.MAGNITUDE, true, 0);
        assertThat(mask.data().asFloat()).containsExactly(0, 0, 0, 0, 1, 1);
    }

    @Test
    void treatsNegativeZeroAsZeroAndNaNAsLargest() {
        INDArray values = Nd4j.createFromArray(new float[]{Float.NaN, -0.0f, 0.5f, -3f});
        INDArray mask = Nd4j.ones(DataType.FLOAT, 4);
        Selection.pruneLowest(segments(List.of(values), List.of(mask)), 3, Selection.Score.MAGNITUDE, true, 0);
        assertThat(mask.data().asFloat()).containsExactly(1, 0, 0, 0);
    }

    @Test
    void randomScoresDependOnlyOnTheSeed() {
        INDArray a = Nd4j.ones(DataType.FLOAT, 10_000);
        INDArray b = Nd4j.ones(DataType.FLOAT, 10_000);
        INDArray c = Nd4j.ones(DataType.FLOAT, 10_000);
        Selection.pruneLowest(segments(List.of(a), List.of(a)), 3_000, Selection.Score.RANDOM, true, 42);
        Selection.pruneLowest(segments(List.of(b), List.of(b)), 3_000, Selection.Score.RANDOM, true, 42);
        Selection.pruneLowest(segments(List.of(c), List.of(c)), 3_000, Selection.Score.RANDOM, true, 43);
        assertThat(a.sumNumber().intValue()).isEqualTo(7_000);
        assertThat(a).isEqualTo(b);
        assertThat(a).isNotEqualTo(c);
    }

    /**
     * A random score belongs to an entry's position among all the tensors, however they are cut: one tensor of
     * 200,000 and the same entries as two tensors prune the same positions, also where the work is split inside a
     * tensor (tasks of at least 65,536 entries: on two or more cores, both layouts are split mid-tensor).
     */
    @Test
    void randomScoresFollowTheGlobalPositionWhereverTheWorkIsSplit() {
        INDArray whole = Nd4j.ones(DataType.FLOAT, 200_000);
        INDArray first = Nd4j.ones(DataType.FLOAT, 70_000);
        INDArray second = Nd4j.ones(DataType.FLOAT, 130_000);
        Selection.pruneLowest(segments(List.of(whole), List.of(whole)), 50_000, Selection.Score.RANDOM, true, 5);
        Selection.pruneLowest(segments(List.of(first, second), List.of(first, second)), 50_000,
                Selection.Score.RANDOM, true, 5);
        assertThat(whole.sumNumber().intValue()).isEqualTo(150_000);
        assertThat(Nd4j.concat(0, first, second)).isEqualTo(whole);
    }

    private static INDArray randn(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return Nd4j.createFromArray(v);
    }

    private static List<Selection.Segment> segments(List<INDArray> values, List<INDArray> masks) {
        List<Selection.Segment> segments = new ArrayList<>();
        for (int i = 0; i < values.size(); i++) {
            segments.add(new Selection.Segment(FloatView.of(values.get(i)), FloatView.of(masks.get(i))));
        }
        return segments;
    }

    private static float[] concat(List<INDArray> arrays) {
        return Nd4j.concat(0, arrays.toArray(new INDArray[0])).data().asFloat();
    }
}
