package dev.shears.prune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class GroupPruningTest {

    private static final GroupImportance OUTPUT_NORM = new GroupImportance(Norm.L2, GroupImportance.Reduction.MEAN,
            Set.of(ChannelGroup.Role.OUTPUT));

    @Test
    void aOneMemberGroupPrunesExactlyTheChannelsLnStructuredPrunes() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(5);
        List<Norm> norms = List.of(Norm.L1, Norm.L2, Norm.INF, Norm.NEG_INF, Norm.p(3), Norm.p(0));
        for (int trial = 0; trial < 40; trial++) {
            long[] shape = trial % 2 == 0 ? new long[]{6, 5, 3, 3} : new long[]{10, 7};
            INDArray w = Nd4j.rand(Nd4j.getRandomFactory().getNewRandomInstance(trial), shape).castTo(DataType.FLOAT)
                    .subi(0.5);
            w.slice(3).assign(w.slice(1)); // a tie: equal channels must be broken the same way
            Pruning viaGroups = Pruning.of(new LinkedHashMap<>(Map.of("m.weight", w.dup())));
            Pruning viaLn = Pruning.of(new LinkedHashMap<>(Map.of("m.weight", w.dup())));
            int dim = random.nextInt(shape.length);
            Norm n = norms.get(random.nextInt(norms.size()));
            ChannelGroup group = ChannelGroup.of(viaGroups.parameter("m.weight"), dim);
            for (int step = 0; step < 3; step++) {
                int alive = DependencyGroupsTest.count(viaGroups.aliveChannels(group));
                Amount amount = random.nextBoolean() ? Amount.fraction(random.nextInt(11) / 10.0)
                        : Amount.count(random.nextInt(alive + 1));
                viaLn.lnStructured("m.weight", amount, n, dim);
                viaGroups.groupStructured(group, amount, new GroupImportance(n, GroupImportance.Reduction.SUM,
                        Set.of(ChannelGroup.Role.OUTPUT)));
                assertThat(viaGroups.mask("m.weight")).as("trial %d step %d: %s of %s along %d by %s", trial, step,
                        amount, java.util.Arrays.toString(shape), dim, n).isEqualTo(viaLn.mask("m.weight"));
            }
        }
    }

    @Test
    void globalPruningComparesGroupsPerEntrySoAWideLayerIsNotSpared() {
        // wide: 4 channels of 100 entries, ~0.1 each (L2 norms ~1.0); narrow: 4 channels of 1 entry, 0.5..0.8
        INDArray wide = Nd4j.create(DataType.FLOAT, 4, 100);
        INDArray narrow = Nd4j.create(DataType.FLOAT, 4, 1);
        for (int c = 0; c < 4; c++) {
            wide.getRow(c).assign(0.1 + 0.01 * c);
            narrow.getRow(c).assign(0.5 + 0.1 * c);
        }
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        tensors.put("wide.weight", wide);
        tensors.put("narrow.weight", narrow);
        Pruning pruning = Pruning.of(tensors);
        ChannelGroup w = ChannelGroup.of(pruning.parameter("wide.weight"), 0);
        ChannelGroup n = ChannelGroup.of(pruning.parameter("narrow.weight"), 0);

        pruning.globalGroupStructured(List.of(w, n), Amount.fraction(0.5), OUTPUT_NORM, ChannelLimits.KEEP_ONE);

        assertThat(pruning.aliveChannels(w)).containsExactly(false, false, false, true);
        assertThat(pruning.aliveChannels(n)).containsExactly(false, true, true, true);
    }

    @Test
    void limitsKeepAMinimumAndRoundTheKeptCountUp() {
        INDArray w = Nd4j.rand(Nd4j.getRandomFactory().getNewRandomInstance(2), 16, 3).castTo(DataType.FLOAT);
        Pruning floor = Pruning.of(new LinkedHashMap<>(Map.of("m.weight", w.dup())));
        Pruning rounded = Pruning.of(new LinkedHashMap<>(Map.of("m.weight", w.dup())));
        ChannelGroup group = ChannelGroup.of(floor.parameter("m.weight"), 0);

        floor.groupStructured(group, Amount.fraction(0.9), OUTPUT_NORM, new ChannelLimits(4, 1));
        rounded.groupStructured(group, Amount.fraction(0.7), OUTPUT_NORM, new ChannelLimits(1, 8));

        assertThat(DependencyGroupsTest.count(floor.aliveChannels(group))).isEqualTo(4);
        // 0.7 of 16 rounds to 11 pruned, 5 kept; rounded up to a multiple of 8
        assertThat(DependencyGroupsTest.count(rounded.aliveChannels(group))).isEqualTo(8);
    }

    @Test
    void aGroupsScoreAveragesItsMembersNormsRescaledToTheFirstMembersChannelSize() {
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        tensors.put("p.weight", Nd4j.create(new float[]{1, 1, 1, 1, 2, 2, 2, 2}, new long[]{2, 4}, 'c'));
        tensors.put("q.weight", Nd4j.create(new float[]{3, 0, 3, 0, 3, 1}, new long[]{3, 2}, 'c'));
        Pruning pruning = Pruning.of(tensors);
        ChannelGroup group = new ChannelGroup("p", 2, List.of(
                new ChannelGroup.Member("p.weight", 0, 0, 1, ChannelGroup.Role.OUTPUT),
                new ChannelGroup.Member("q.weight", 1, 0, 1, ChannelGroup.Role.INPUT)), List.of("p"), Optional.empty());

        double[] scores = pruning.groupImportance(group, GroupImportance.L2);

        // p: rows of 4 entries, norms 2 and 4, unit 2; q: columns of 3 entries, norms sqrt(27) and 1, unit sqrt(3)
        double factor = 2 / Math.sqrt(3);
        assertThat(scores[0]).isCloseTo((2 + Math.sqrt(27) * factor) / 2, within(1e-9));
        assertThat(scores[1]).isCloseTo((4 + 1 * factor) / 2, within(1e-9));
    }
}
