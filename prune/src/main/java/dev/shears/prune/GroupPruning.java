package dev.shears.prune;

import dev.shears.prune.internal.Channels;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The machinery behind {@link Pruning}'s group methods: scores, alive channels, and masks over a group's members. */
final class GroupPruning {
    private GroupPruning() {}

    /** Scores within one group, and the unit that turns them into per-entry scores comparable across groups. */
    record Scores(double[] local, double unit) {
        double global(int c) {
            return local[c] / unit;
        }
    }

    static Scores scores(Pruning pruning, ChannelGroup group, GroupImportance importance) {
        Norm norm = importance.norm();
        double[] sum = new double[group.channels()];
        double firstUnit = Double.NaN;
        int counted = 0;
        for (ChannelGroup.Member m : group.members()) {
            if (!importance.roles().contains(m.role())) {
                continue;
            }
            INDArray w = pruning.weight(m.parameter());
            long[] shape = w.shape();
            check(group, m, shape);
            double[] positions = norm.channelNorms(Channels.values(w), shape, m.dim());
            double unit = norm.unitNorm(m.width() * (w.length() / shape[m.dim()]));
            if (counted == 0) {
                firstUnit = unit;
            }
            double factor = firstUnit / unit;
            for (int c = 0; c < sum.length; c++) {
                sum[c] += factor * norm.combine(positions, m.offset() + c * m.width(), m.width());
            }
            counted++;
        }
        if (counted == 0) {
            throw new IllegalArgumentException("group " + group.name() + " has no member with a role in "
                    + importance.roles() + " (fix: rank by GroupImportance.WEIGHTS)");
        }
        if (importance.reduction() == GroupImportance.Reduction.MEAN) {
            for (int c = 0; c < sum.length; c++) {
                sum[c] /= counted;
            }
        }
        return new Scores(sum, firstUnit);
    }

    /** A channel is alive while some masked member still has a non-zero mask entry in its slice. */
    static boolean[] alive(Pruning pruning, ChannelGroup group) {
        boolean[] alive = new boolean[group.channels()];
        for (ChannelGroup.Member m : group.members()) {
            if (!m.role().masked()) {
                continue;
            }
            long[] shape = pruning.parameter(m.parameter()).shape();
            check(group, m, shape);
            if (!pruning.isPruned(m.parameter())) {
                java.util.Arrays.fill(alive, true);
                return alive;
            }
            boolean[] positions = Channels.alive(pruning.mask(m.parameter()), m.dim());
            for (int c = 0; c < alive.length; c++) {
                for (int t = 0; t < m.width() && !alive[c]; t++) {
                    alive[c] = positions[m.offset() + c * m.width() + t];
                }
            }
        }
        return alive;
    }

    /**
     * Prunes {@code amount} of the group's alive channels, those of lowest {@code scores}, within {@code limits}:
     * on a one-member group without limits, exactly {@link LnStructured} under the pruning container.
     */
    static void local(Pruning pruning, ChannelGroup group, Amount amount, double[] scores, ChannelLimits limits) {
        checkPrunable(group);
        boolean[] alive = alive(pruning, group);
        int[] aliveIdx = indices(alive);
        long toPrune = amount.unitsToPrune(aliveIdx.length);
        long keep = limits.keep(aliveIdx.length, aliveIdx.length - toPrune);
        double[] aliveScores = new double[aliveIdx.length];
        for (int i = 0; i < aliveIdx.length; i++) {
            aliveScores[i] = scores[aliveIdx[i]];
        }
        boolean[] kept = Channels.keepLargest(aliveScores, keep);
        boolean[] keepAll = new boolean[group.channels()];
        for (int i = 0; i < aliveIdx.length; i++) {
            keepAll[aliveIdx[i]] = kept[i];
        }
        keep(pruning, Map.of(group, keepAll));
    }

    /**
     * Prunes {@code amount} of the alive channels of all groups together, lowest per-entry score first, each group
     * within {@code limits} (so fewer may go than asked).
     */
    static void global(Pruning pruning, List<ChannelGroup> groups, Amount amount, GroupImportance importance,
            ChannelLimits limits) {
        record Candidate(int group, int channel, double score) {
        }
        List<Candidate> candidates = new ArrayList<>();
        List<boolean[]> keep = new ArrayList<>();
        List<Scores> scores = new ArrayList<>();
        int[] alive = new int[groups.size()];
        for (int g = 0; g < groups.size(); g++) {
            ChannelGroup group = groups.get(g);
            checkPrunable(group);
            Scores s = scores(pruning, group, importance);
            boolean[] a = alive(pruning, group);
            for (int c = 0; c < a.length; c++) {
                if (a[c]) {
                    candidates.add(new Candidate(g, c, s.global(c)));
                    alive[g]++;
                }
            }
            keep.add(a);
            scores.add(s);
        }
        long k = amount.unitsToPrune(candidates.size());
        // lowest score first; among equals the later group and the higher channel go first, as keepLargest keeps lower indices
        candidates.sort(Comparator.comparingDouble(Candidate::score)
                .thenComparing(Comparator.comparingInt(Candidate::group).reversed())
                .thenComparing(Comparator.comparingInt(Candidate::channel).reversed()));
        int[] remaining = alive.clone();
        long pruned = 0;
        for (Candidate c : candidates) {
            if (pruned == k) {
                break;
            }
            if (remaining[c.group()] > limits.keep(alive[c.group()], 0)) {
                keep.get(c.group())[c.channel()] = false;
                remaining[c.group()]--;
                pruned++;
            }
        }
        Map<ChannelGroup, boolean[]> result = new LinkedHashMap<>();
        for (int g = 0; g < groups.size(); g++) {
            long back = limits.keep(alive[g], remaining[g]) - remaining[g];
            boolean[] a = alive(pruning, groups.get(g));
            double[] local = scores.get(g).local();
            boolean[] kg = keep.get(g);
            for (long i = 0; i < back; i++) { // rounding up: the best of the channels just pruned come back
                int best = -1;
                for (int c = 0; c < kg.length; c++) {
                    if (a[c] && !kg[c] && (best < 0 || local[c] > local[best])) {
                        best = c;
                    }
                }
                kg[best] = true;
            }
            result.put(groups.get(g), kg);
        }
        keep(pruning, result);
    }

    /** Masks every masked member so that only the channels marked in {@code keep} remain, all groups at once. */
    static void keep(Pruning pruning, Map<ChannelGroup, boolean[]> keep) {
        Map<String, INDArray> masks = new LinkedHashMap<>();
        for (Map.Entry<ChannelGroup, boolean[]> e : keep.entrySet()) {
            ChannelGroup group = e.getKey();
            boolean[] channels = e.getValue();
            for (ChannelGroup.Member m : group.members()) {
                if (!m.role().masked()) {
                    continue;
                }
                PrunableParameter p = pruning.parameter(m.parameter());
                long[] shape = p.shape();
                check(group, m, shape);
                boolean[] positions = new boolean[(int) shape[m.dim()]];
                java.util.Arrays.fill(positions, true);
                for (int c = 0; c < channels.length; c++) {
                    if (!channels[c]) {
                        java.util.Arrays.fill(positions, m.offset() + c * m.width(), m.offset() + (c + 1) * m.width(),
                                false);
                    }
                }
                INDArray mask = Channels.mask(shape, m.dim(), positions, pruning.weight(p.name()).dataType());
                masks.merge(p.name(), mask, INDArray::muli);
            }
        }
        masks.forEach(pruning::restrict);
    }

    private static void checkPrunable(ChannelGroup group) {
        if (!group.prunable()) {
            throw new IllegalArgumentException("group " + group.name() + " cannot be pruned: " + group.reason().get()
                    + " (fix: prune only DependencyGroups.prunable())");
        }
    }

    private static void check(ChannelGroup group, ChannelGroup.Member m, long[] shape) {
        if (m.dim() >= shape.length || (long) m.offset() + (long) group.channels() * m.width() > shape[m.dim()]) {
            throw new IllegalArgumentException("group " + group.name() + "'s member " + m + " does not fit "
                    + m.parameter() + " of shape " + java.util.Arrays.toString(shape)
                    + " (fix: the group was made for another model; build it from this one)");
        }
    }

    private static int[] indices(boolean[] b) {
        return java.util.stream.IntStream.range(0, b.length).filter(i -> b[i]).toArray();
    }
}
