package dev.shears.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.shears.common.data.DataShape;
import dev.shears.common.data.InputShape;
import dev.shears.common.data.Normalization;
import dev.shears.common.recipe.ValidationSplit;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class PartitionTest {

    static final LoadedDataset SUBSET = new DataCache(Roots.of("data", List.of(Subset.dir().getParent())),
            Long.MAX_VALUE, Subset.dir()).get("fashion-mnist-subset", Optional.empty());

    private static Set<Integer> rows(Examples examples) {
        Set<Integer> rows = new HashSet<>();
        IntStream.range(0, examples.size()).forEach(i -> rows.add(examples.row(i)));
        return rows;
    }

    @Test
    void theValidationSplitIsHeldOutOfTheTrainingFilesAndKeepsTheirOrder() {
        Partition p = Partition.of(SUBSET, ValidationSplit.fraction(0.1), 42, Optional.empty());

        assertThat(p.validation().size()).isEqualTo(200);
        assertThat(p.train().size()).isEqualTo(1800);
        assertThat(p.test().size()).isEqualTo(500);
        Set<Integer> all = rows(p.train());
        all.addAll(rows(p.validation()));
        assertThat(all).hasSize(2000);
        assertThat(IntStream.range(1, p.train().size()).allMatch(i -> p.train().row(i) > p.train().row(i - 1)))
                .isTrue();
    }

    @Test
    void theSameSeedHoldsOutTheSameExamplesAndAnotherSeedOthers() {
        Partition a = Partition.of(SUBSET, ValidationSplit.count(300), 7, Optional.empty());
        Partition b = Partition.of(SUBSET, ValidationSplit.count(300), 7, Optional.empty());
        Partition c = Partition.of(SUBSET, ValidationSplit.count(300), 8, Optional.empty());

        assertThat(rows(a.validation())).isEqualTo(rows(b.validation())).isNotEqualTo(rows(c.validation()));
        assertThat(a.normalization()).isEqualTo(b.normalization());
    }

    @Test
    void theMeasuredNormalisationOfFashionMnistIsTheKnownOne() {
        Normalization n = Partition.of(SUBSET, ValidationSplit.fraction(0.1), 42, Optional.empty()).normalization();

        assertThat(n.channels()).isEqualTo(1);
        assertThat(n.mean().get(0)).isCloseTo(Subset.MEAN, within(0.01));
        assertThat(n.std().get(0)).isCloseTo(Subset.STD, within(0.01));
    }

    @Test
    void theMeasuredNormalisationIsEachChannelsMeanAndStd() {
        Examples two = new Examples(Store.wrap(new float[]{0, 2, 10, 10, 4, 6, 10, 10}, 4, new int[]{0, 1}), null,
                new DataShape(InputShape.image(2, 1, 2), 2), List.of("a", "b"));

        Normalization n = Partition.measure(two);

        assertThat(n.mean()).containsExactly(3.0, 10.0);
        assertThat(n.std().get(0)).isCloseTo(Math.sqrt(5), within(1e-9));
        assertThat(n.std().get(1)).isEqualTo(1.0);
    }

    @Test
    void aGivenNormalisationWinsOverTheMeasuredOne() {
        Normalization given = Normalization.uniform(1, 0.5, 0.25);

        assertThat(Partition.of(SUBSET, ValidationSplit.DEFAULT, 1, Optional.of(given)).normalization())
                .isEqualTo(given);
    }
}
