package dev.shears.trainer.job;

import dev.shears.common.recipe.PruningSpec;
import dev.shears.common.schedule.Sparsity;
import dev.shears.prune.Amount;
import dev.shears.prune.L1Unstructured;
import dev.shears.prune.Norm;
import dev.shears.prune.PrunableParameter;
import dev.shears.prune.Pruning;
import dev.shears.prune.RandomUnstructured;
import dev.shears.prune.SemiStructured;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What a recipe prunes and how: turns an absolute target sparsity into PyTorch's count on what
 * still remains, so the achieved sparsity equals the target to the element (to the channel for
 * structured methods), globally or per parameter as the recipe says.
 */
public final class PruningPlan {
    private final PruningSpec spec;
    private final List<String> names;
    private final long seed;

    /**
     * @param spec the recipe's pruning section
     * @param pruning the model's pruning state, whose parameter names the globs select from
     * @param seed seeds random methods (each step derives its own seed from it)
     */
    public PruningPlan(PruningSpec spec, Pruning pruning, long seed) {
        this.spec = spec;
        this.seed = seed;
        List<String> all = pruning.parameters().stream().map(PrunableParameter::name).toList();
        this.names = spec.select(all);
        if (names.isEmpty()) {
            throw new IllegalArgumentException("pruning.parameters " + spec.parameters() + " (excluding " + spec.exclude()
                    + ") select no parameter of this model (fix: use globs over " + all + ")");
        }
    }

    /** The names (PyTorch-style) of the parameters this plan prunes, in model order. */
    public List<String> names() {
        return names;
    }

    /** Prunes, on top of what is already pruned, up to the absolute {@code target} sparsity. */
    public void apply(Pruning pruning, double target, int step) {
        long stepSeed = seed * 1_000_003L + step;
        switch (spec.method()) {
            case L1_UNSTRUCTURED, RANDOM_UNSTRUCTURED -> {
                if (spec.scope() == PruningSpec.Scope.GLOBAL) {
                    long total = 0;
                    long pruned = 0;
                    for (String name : names) {
                        total += pruning.parameter(name).size();
                        pruned += masked(pruning, name);
                    }
                    Amount k = Amount.count(Sparsity.unitsToPrune(total, pruned, target));
                    pruning.globalUnstructured(names, unstructured(k, stepSeed), Map.of());
                } else {
                    for (String name : names) {
                        long k = Sparsity.unitsToPrune(pruning.parameter(name).size(), masked(pruning, name), target);
                        pruning.apply(name, unstructured(Amount.count(k), stepSeed + name.hashCode()));
                    }
                }
            }
            case LN_STRUCTURED, RANDOM_STRUCTURED -> {
                int dim = spec.dim().orElse(PruningSpec.DEFAULT_DIM);
                Norm norm = Norm.parse(spec.norm().orElse(PruningSpec.DEFAULT_NORM));
                if (spec.scope() == PruningSpec.Scope.GLOBAL && spec.method() == PruningSpec.Method.LN_STRUCTURED) {
                    long total = 0;
                    long dead = 0;
                    for (String name : names) {
                        total += channels(pruning, name, dim);
                        dead += deadChannels(pruning, name, dim);
                    }
                    pruning.globalStructured(names, Amount.count(Sparsity.unitsToPrune(total, dead, target)), norm, dim);
                } else {
                    for (String name : names) {
                        long k = Sparsity.unitsToPrune(channels(pruning, name, dim), deadChannels(pruning, name, dim), target);
                        if (spec.method() == PruningSpec.Method.LN_STRUCTURED) {
                            pruning.lnStructured(name, Amount.count(k), norm, dim);
                        } else {
                            pruning.apply(name, new dev.shears.prune.RandomStructured(Amount.count(k), dim,
                                    stepSeed + name.hashCode()));
                        }
                    }
                }
            }
            case N_M -> {
                // N:M is a pattern, not a gradual amount: it is applied once, at the first step.
                var nm = spec.nm().orElseThrow();
                for (String name : names) {
                    if (!pruning.isPruned(name)) {
                        pruning.apply(name, new SemiStructured(nm.n(), nm.m(), 1));
                    }
                }
            }
        }
    }

    private dev.shears.prune.PruningMethod unstructured(Amount k, long stepSeed) {
        return spec.method() == PruningSpec.Method.L1_UNSTRUCTURED ? new L1Unstructured(k) : new RandomUnstructured(k, stepSeed);
    }

    /** Sparsity over the plan's parameters (zeros of the masks) and per parameter. */
    public Map<String, Double> layerSparsity(Pruning pruning) {
        Map<String, Double> result = new LinkedHashMap<>();
        for (String name : names) {
            result.put(name, (double) masked(pruning, name) / pruning.parameter(name).size());
        }
        return result;
    }

    /** Fraction of the plan's entries that are pruned (mask 0). */
    public double achieved(Pruning pruning) {
        long total = 0;
        long pruned = 0;
        for (String name : names) {
            total += pruning.parameter(name).size();
            pruned += masked(pruning, name);
        }
        return (double) pruned / total;
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
