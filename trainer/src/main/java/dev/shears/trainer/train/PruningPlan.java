package dev.shears.trainer.train;

import dev.shears.common.recipe.PruningSpec;
import dev.shears.common.recipe.PruningSpec.WeightKind;
import dev.shears.common.schedule.Sparsity;
import dev.shears.prune.Amount;
import dev.shears.prune.ChannelGroup;
import dev.shears.prune.ChannelLimits;
import dev.shears.prune.DependencyGroups;
import dev.shears.prune.GroupImportance;
import dev.shears.prune.L1Unstructured;
import dev.shears.prune.LayerKind;
import dev.shears.prune.Norm;
import dev.shears.prune.PrunableParameter;
import dev.shears.prune.Pruning;
import dev.shears.prune.RandomStructured;
import dev.shears.prune.RandomUnstructured;
import dev.shears.prune.SemiStructured;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What a recipe prunes and how: turns an absolute target sparsity into PyTorch's count on what
 * still remains, so the achieved sparsity equals the target to the element (to the channel for
 * structured methods), globally or per parameter as the recipe says.
 *
 * <p>With {@code structured.groups: dependency} the units are the channels of dependency groups: a group is
 * pruned when one of its producers' weights is selected and none of the layers it produces, normalises or passes
 * through is excluded, and the target is the fraction of the selected groups' channels pruned. A parameter (or a
 * group whose producer) an override selects follows its own target, the schedule's scaled by
 * {@code override / finalSparsity}, on its own.
 */
public final class PruningPlan {
    private final PruningSpec spec;
    private final double finalSparsity;
    private final List<String> names;
    private final List<ChannelGroup> groups;
    private final Map<String, Double> overrides = new LinkedHashMap<>();
    private final long seed;

    /**
     * A plan for per-parameter pruning without overrides (as before dependency groups).
     *
     * @param spec the recipe's pruning section
     * @param pruning the model's pruning state, whose parameter names the globs select from
     * @param seed seeds random methods (each step derives its own seed from it)
     * @throws IllegalArgumentException when the spec selects nothing, or needs dependency groups or overrides
     */
    public PruningPlan(PruningSpec spec, Pruning pruning, long seed) {
        this(spec, Double.NaN, null, pruning, seed);
    }

    /**
     * @param spec the recipe's pruning section
     * @param finalSparsity the schedule's final target, which overrides scale against
     * @param model the model {@code pruning} is over, whose structure gives the dependency groups; may be null when
     *     the spec does not prune by groups
     * @param pruning the model's pruning state, whose parameter names the globs select from
     * @param seed seeds random methods (each step derives its own seed from it)
     * @throws IllegalArgumentException when the spec selects nothing, or an override nothing
     */
    public PruningPlan(PruningSpec spec, double finalSparsity, Model model, Pruning pruning, long seed) {
        this.spec = spec;
        this.seed = seed;
        this.finalSparsity = finalSparsity;
        if (!spec.overrides().isEmpty() && !(finalSparsity >= 0)) {
            throw new IllegalArgumentException(
                    "pruning.overrides scale against the schedule's final sparsity, which this"
                            + " plan was not given (fix: build it with PruningPlan(spec, finalSparsity, model, pruning, seed))");
        }
        List<String> all = pruning.parameters().stream().map(PrunableParameter::name).toList();
        if (spec.byDependencyGroups()) {
            this.groups = selectGroups(spec, model, pruning);
            Set<String> masked = new LinkedHashSet<>();
            groups.forEach(g -> masked.addAll(g.maskedParameters()));
            this.names = all.stream().filter(masked::contains).toList();
            for (ChannelGroup g : groups) {
                producerWeights(g).stream().map(spec::overrideFor).flatMap(Optional::stream).findFirst()
                        .ifPresent(o -> overrides.put(g.name(), o.sparsity()));
            }
        } else {
            this.groups = List.of();
            this.names = pruning.parameters().stream().filter(p -> spec.selects(p.name(), kind(p)))
                    .map(PrunableParameter::name).toList();
            names.forEach(n -> spec.overrideFor(n).ifPresent(o -> overrides.put(n, o.sparsity())));
        }
        if (names.isEmpty()) {
            throw new IllegalArgumentException("pruning.parameters " + spec.parameters() + " of kinds " + spec.kinds()
                    + " (excluding " + spec.exclude() + ") select no "
                    + (spec.byDependencyGroups() ? "prunable group" : "parameter")
                    + " of this model (fix: use globs over " + all + ")");
        }
        for (int i = 0; i < spec.overrides().size(); i++) {
            PruningSpec.TargetOverride o = spec.overrides().get(i);
            List<String> candidates = spec.byDependencyGroups()
                    ? groups.stream().flatMap(g -> producerWeights(g).stream()).toList() : names;
            if (candidates.stream().noneMatch(o::selects)) {
                throw new IllegalArgumentException("pruning.overrides[" + i + "].parameters " + o.parameters()
                        + " select nothing this plan prunes (fix: use globs over " + candidates + ")");
            }
        }
    }

    private static List<ChannelGroup> selectGroups(PruningSpec spec, Model model, Pruning pruning) {
        DependencyGroups all;
        if (model instanceof ComputationGraph graph) {
            all = DependencyGroups.of(graph);
        } else if (model instanceof MultiLayerNetwork net) {
            all = DependencyGroups.of(net);
        } else {
            throw new IllegalArgumentException("pruning.structured.groups dependency needs the model to find its groups"
                    + " (fix: build the plan with PruningPlan(spec, finalSparsity, model, pruning, seed))");
        }
        return all.prunable().stream()
                .filter(g -> producerWeights(g).stream().anyMatch(n -> spec.selects(n, kind(pruning.parameter(n)))))
                .filter(g -> g.members().stream().noneMatch(m -> m.role() != ChannelGroup.Role.INPUT
                        && spec.excludes(m.parameter())))
                .toList();
    }

    private static List<String> producerWeights(ChannelGroup g) {
        return g.members().stream().filter(m -> m.role() == ChannelGroup.Role.OUTPUT)
                .map(ChannelGroup.Member::parameter).toList();
    }

    /** The kind of weight {@code p} is, for {@code pruning.kinds}; empty for batch norms, biases and the rest. */
    static Optional<WeightKind> kind(PrunableParameter p) {
        if (!p.isWeight()) {
            return Optional.empty();
        }
        LayerKind k = p.kind();
        if (k == LayerKind.CONVOLUTION
                || k == LayerKind.SEPARABLE_CONVOLUTION && p.attribute().equals("pointwise_weight")) {
            return Optional.of(WeightKind.CONV);
        }
        if (k == LayerKind.DEPTHWISE_CONVOLUTION || k == LayerKind.SEPARABLE_CONVOLUTION) {
            return Optional.of(WeightKind.DEPTHWISE);
        }
        return k == LayerKind.DENSE ? Optional.of(WeightKind.DENSE) : Optional.empty();
    }

    /** The names (PyTorch-style) of the parameters this plan masks, in model order. */
    public List<String> names() {
        return names;
    }

    /** The dependency groups this plan prunes, in model order; empty when it prunes parameters on their own. */
    public List<ChannelGroup> groups() {
        return groups;
    }

    /**
     * One thing this plan prunes, for a sensitivity analysis: a dependency group (its size in channels) or a
     * parameter (its size in entries).
     */
    public record Unit(String name, long size) {
    }

    /** What this plan prunes, each on its own: its dependency groups, or else its parameters, in model order. */
    public List<Unit> units(Pruning pruning) {
        if (spec.byDependencyGroups()) {
            return groups.stream().map(g -> new Unit(g.name(), g.channels())).toList();
        }
        return names.stream().map(n -> new Unit(n, pruning.parameter(n).size())).toList();
    }

    /**
     * Prunes {@code unit} alone to {@code sparsity} of its channels or entries, by the plan's method (for N:M, its
     * pattern whatever the sparsity); the rest of the model stays as it is.
     *
     * @throws IllegalArgumentException when {@code unit} is not one of {@link #units}
     */
    public void pruneAlone(Pruning pruning, String unit, double sparsity) {
        if (spec.byDependencyGroups()) {
            ChannelGroup g = groups.stream().filter(x -> x.name().equals(unit)).findFirst().orElseThrow(
                    () -> new IllegalArgumentException("unit " + unit + " is not a group this plan prunes (fix: one"
                            + " of " + groups.stream().map(ChannelGroup::name).toList() + ")"));
            PruningSpec.Structured st = spec.structured().orElseThrow();
            ChannelLimits limits = new ChannelLimits(
                    st.minChannels().orElse(PruningSpec.Structured.DEFAULT_MIN_CHANNELS),
                    st.roundTo().orElse(PruningSpec.Structured.DEFAULT_ROUND_TO));
            Amount k = Amount.count(Sparsity.unitsToPrune(g.channels(), 0, sparsity));
            if (spec.method() == PruningSpec.Method.LN_STRUCTURED) {
                pruning.groupStructured(g, k, importance(st), limits);
            } else {
                pruning.seed(seed).randomGroupStructured(g, k, limits);
            }
            return;
        }
        if (!names.contains(unit)) {
            throw new IllegalArgumentException("unit " + unit + " is not a parameter this plan prunes (fix: one of "
                    + names + ")");
        }
        if (spec.method() == PruningSpec.Method.N_M) {
            var nm = spec.nm().orElseThrow();
            pruning.apply(unit, new SemiStructured(nm.n(), nm.m(), 1));
        } else {
            pruneAlone(pruning, unit, sparsity, seed);
        }
    }

    /** Prunes, on top of what is already pruned, up to the absolute {@code target} sparsity. */
    public void apply(Pruning pruning, double target, int step) {
        long stepSeed = seed * 1_000_003L + step;
        if (spec.byDependencyGroups()) {
            applyToGroups(pruning, target, stepSeed);
            return;
        }
        if (spec.method() == PruningSpec.Method.N_M) {
            // N:M is a pattern, not a gradual amount: it is applied once, at the first step.
            var nm = spec.nm().orElseThrow();
            for (String name : names) {
                if (!pruning.isPruned(name)) {
                    pruning.apply(name, new SemiStructured(nm.n(), nm.m(), 1));
                }
            }
            return;
        }
        List<String> together = new ArrayList<>();
        for (String name : names) {
            if (overrides.containsKey(name) || spec.scope() == PruningSpec.Scope.LOCAL) {
                pruneAlone(pruning, name, targetOf(name, target), stepSeed);
            } else {
                together.add(name);
            }
        }
        if (!together.isEmpty()) {
            pruneTogether(pruning, together, target, stepSeed);
        }
    }

    private double targetOf(String name, double target) {
        Double o = overrides.get(name);
        if (o == null) {
            return target;
        }
        return finalSparsity > 0 ? Math.min(o, target * o / finalSparsity) : 0;
    }

    private void pruneAlone(Pruning pruning, String name, double target, long stepSeed) {
        switch (spec.method()) {
            case L1_UNSTRUCTURED, RANDOM_UNSTRUCTURED -> {
                long k = Sparsity.unitsToPrune(pruning.parameter(name).size(), masked(pruning, name), target);
                pruning.apply(name, unstructured(Amount.count(k), stepSeed + name.hashCode()));
            }
            default -> {
                int dim = spec.dim().orElse(PruningSpec.DEFAULT_DIM);
                long k = Sparsity.unitsToPrune(channels(pruning, name, dim), deadChannels(pruning, name, dim), target);
                if (spec.method() == PruningSpec.Method.LN_STRUCTURED) {
                    pruning.lnStructured(name, Amount.count(k), norm(), dim);
                } else {
                    pruning.apply(name, new RandomStructured(Amount.count(k), dim, stepSeed + name.hashCode()));
                }
            }
        }
    }

    private void pruneTogether(Pruning pruning, List<String> together, double target, long stepSeed) {
        switch (spec.method()) {
            case L1_UNSTRUCTURED, RANDOM_UNSTRUCTURED -> {
                long total = 0;
                long pruned = 0;
                for (String name : together) {
                    total += pruning.parameter(name).size();
                    pruned += masked(pruning, name);
                }
                Amount k = Amount.count(Sparsity.unitsToPrune(total, pruned, target));
                pruning.globalUnstructured(together, unstructured(k, stepSeed), Map.of());
            }
            case LN_STRUCTURED -> {
                int dim = spec.dim().orElse(PruningSpec.DEFAULT_DIM);
                long total = 0;
                long dead = 0;
                for (String name : together) {
                    total += channels(pruning, name, dim);
                    dead += deadChannels(pruning, name, dim);
                }
                pruning.globalStructured(together, Amount.count(Sparsity.unitsToPrune(total, dead, target)), norm(),
                        dim);
            }
            default -> together.forEach(name -> pruneAlone(pruning, name, target, stepSeed)); // random: each on its own
        }
    }

    private void applyToGroups(Pruning pruning, double target, long stepSeed) {
        PruningSpec.Structured st = spec.structured().orElseThrow();
        ChannelLimits limits = new ChannelLimits(st.minChannels().orElse(PruningSpec.Structured.DEFAULT_MIN_CHANNELS),
                st.roundTo().orElse(PruningSpec.Structured.DEFAULT_ROUND_TO));
        GroupImportance importance = spec.method() == PruningSpec.Method.LN_STRUCTURED ? importance(st) : null;
        if (importance == null) {
            pruning.seed(stepSeed); // random channels: the same at a step whether or not the job was resumed
        }
        List<ChannelGroup> together = new ArrayList<>();
        for (ChannelGroup g : groups) {
            boolean alone = overrides.containsKey(g.name()) || spec.scope() == PruningSpec.Scope.LOCAL
                    || importance == null;
            if (!alone) {
                together.add(g);
                continue;
            }
            long k = Sparsity.unitsToPrune(g.channels(), dead(pruning, g), targetOf(g.name(), target));
            if (importance == null) {
                pruning.randomGroupStructured(g, Amount.count(k), limits);
            } else {
                pruning.groupStructured(g, Amount.count(k), importance, limits);
            }
        }
        if (!together.isEmpty()) {
            long total = 0;
            long dead = 0;
            for (ChannelGroup g : together) {
                total += g.channels();
                dead += dead(pruning, g);
            }
            pruning.globalGroupStructured(together, Amount.count(Sparsity.unitsToPrune(total, dead, target)),
                    importance,
                    limits);
        }
    }

    private GroupImportance importance(PruningSpec.Structured st) {
        GroupImportance.Reduction reduction = st.reduction()
                .orElse(PruningSpec.Structured.Reduction.MEAN) == PruningSpec.Structured.Reduction.SUM
                        ? GroupImportance.Reduction.SUM : GroupImportance.Reduction.MEAN;
        return GroupImportance.of(norm(), reduction);
    }

    private Norm norm() {
        return Norm.parse(spec.norm().orElse(PruningSpec.DEFAULT_NORM));
    }

    private dev.shears.prune.PruningMethod unstructured(Amount k, long stepSeed) {
        return spec.method() == PruningSpec.Method.L1_UNSTRUCTURED ? new L1Unstructured(k)
                : new RandomUnstructured(k, stepSeed);
    }

    /** Sparsity over the plan's parameters (zeros of the masks) and per parameter. */
    public Map<String, Double> layerSparsity(Pruning pruning) {
        Map<String, Double> result = new LinkedHashMap<>();
        for (String name : names) {
            result.put(name, (double) masked(pruning, name) / pruning.parameter(name).size());
        }
        return result;
    }

    /**
     * Fraction of the plan's units that are pruned: entries (mask 0) of its parameters, or, with dependency groups,
     * channels of its groups.
     */
    public double achieved(Pruning pruning) {
        long total = 0;
        long pruned = 0;
        if (spec.byDependencyGroups()) {
            for (ChannelGroup g : groups) {
                total += g.channels();
                pruned += dead(pruning, g);
            }
            return (double) pruned / total;
        }
        for (String name : names) {
            total += pruning.parameter(name).size();
            pruned += masked(pruning, name);
        }
        return (double) pruned / total;
    }

    /** Channels of each group that are pruned, by group name, in model order (empty without dependency groups). */
    public Map<String, Integer> prunedChannels(Pruning pruning) {
        Map<String, Integer> result = new LinkedHashMap<>();
        groups.forEach(g -> result.put(g.name(), (int) dead(pruning, g)));
        return result;
    }

    private static long dead(Pruning pruning, ChannelGroup g) {
        long alive = 0;
        for (boolean a : pruning.aliveChannels(g)) {
            alive += a ? 1 : 0;
        }
        return g.channels() - alive;
    }

    private static long masked(Pruning pruning, String name) {
        if (!pruning.isPruned(name)) {
            return 0;
        }
        INDArray mask = pruning.mask(name);
        return org.nd4j.linalg.factory.Nd4j.getExecutioner()
                .exec(new org.nd4j.linalg.api.ops.impl.reduce.longer.CountZero(mask)).getLong(0);
    }

    private static long channels(Pruning pruning, String name, int dim) {
        long[] shape = pruning.parameter(name).shape();
        return shape[dim < 0 ? dim + shape.length : dim];
    }

    private static long deadChannels(Pruning pruning, String name, int dim) {
        if (!pruning.isPruned(name)) {
            return 0;
        }
        INDArray mask = pruning.mask(name);
        int d = dim < 0 ? dim + mask.rank() : dim;
        int[] others = java.util.stream.IntStream.range(0, mask.rank()).filter(i -> i != d).toArray();
        INDArray sums = mask.sum(others);
        return sums.length() - sums.neq(0).castTo(org.nd4j.linalg.api.buffer.DataType.INT64).sumNumber().longValue();
    }
}
