package dev.shears.prune;

import dev.shears.prune.internal.Channels;
import dev.shears.prune.internal.FloatView;
import dev.shears.prune.internal.Selection;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The pruning state of one model, with PyTorch's {@code torch.nn.utils.prune} functions as methods.
 *
 * <p>The model's own parameter holds the effective value {@code orig * mask}, so the model runs
 * pruned as it is. Pruning a parameter for the first time keeps its values as {@code <name>_orig}
 * and adds {@code <name>_mask}; pruning it again combines masks as PyTorch's
 * {@code PruningContainer} does: a fraction applies to what is still unpruned. Training may change
 * the model's parameters; the unpruned entries are read back into {@code _orig} before every
 * operation, and {@link #applyMasks()} puts the zeros back after an update.
 *
 * <p>Parameters are named PyTorch-style ({@code conv1.weight}, in PyTorch layout: a dense weight
 * is {@code [out, in]}, so {@code dim = 0} means output units) or by DL4J's key ({@code 0_W}).
 *
 * <p>Not thread-safe: confine one instance to one thread, as one would a model being trained.
 */
public final class Pruning {
    private final ParameterTable table;
    private final Map<String, State> states = new LinkedHashMap<>();
    private SplittableRandom random = new SplittableRandom();
    private long version;

    /** Per pruned parameter: the original values and the mask, in PyTorch layout, C order. */
    private static final class State {
        final INDArray orig;
        INDArray mask;

        State(INDArray orig, INDArray mask) {
            this.orig = orig;
            this.mask = mask;
        }
    }

    private Pruning(ParameterTable table) {
        this.table = table;
    }

    /** Pruning over a network's parameters; layers are named by their DL4J layer names. */
    public static Pruning of(MultiLayerNetwork network) {
        return new Pruning(ParameterTable.of(network));
    }

    /** Pruning over a graph's parameters; layers are named by their vertex names. */
    public static Pruning of(ComputationGraph graph) {
        return new Pruning(ParameterTable.of(graph));
    }

    /**
     * Pruning over plain tensors in PyTorch layout, keyed {@code module.attribute}
     * ({@code fc.weight}). The tensors are modified in place, as a model's parameters would be.
     */
    public static Pruning of(Map<String, INDArray> tensors) {
        return new Pruning(ParameterTable.of(tensors));
    }

    /** Seeds the random methods called through this object, for reproducible runs. */
    public Pruning seed(long seed) {
        this.random = new SplittableRandom(seed);
        return this;
    }

    /** Every parameter of the model, in the model's order. */
    public List<PrunableParameter> parameters() {
        return List.copyOf(table.parameters());
    }

    /** The weights of convolution (plain, depthwise, separable) and dense layers: what one usually prunes. */
    public List<PrunableParameter> prunableWeights() {
        return table.parameters().stream().filter(p -> p.kind().prunableByDefault() && p.isWeight()).toList();
    }

    /** The parameter called {@code name} (PyTorch-style or DL4J key). */
    public PrunableParameter parameter(String name) {
        return table.get(name);
    }

    // ---- PyTorch's functions -------------------------------------------------------------------

    /** Sets up the pruning state without pruning anything. */
    public Pruning identity(String name) {
        return apply(name, new Identity());
    }

    /** Prunes {@code amount} of the still-unpruned entries at random. */
    public Pruning randomUnstructured(String name, Amount amount) {
        return apply(name, new RandomUnstructured(amount, random.nextLong()));
    }

    /** Prunes {@code amount} of the still-unpruned entries with the smallest magnitude. */
    public Pruning l1Unstructured(String name, Amount amount) {
        return apply(name, new L1Unstructured(amount));
    }

    /** As {@link #l1Unstructured(String, Amount)}, ranking by {@code importanceScores} (same shape) instead. */
    public Pruning l1Unstructured(String name, Amount amount, INDArray importanceScores) {
        return apply(name, new L1Unstructured(amount), importanceScores);
    }

    /** Prunes {@code amount} of the channels along {@code dim} not yet removed, at random. */
    public Pruning randomStructured(String name, Amount amount, int dim) {
        return apply(name, new RandomStructured(amount, dim, random.nextLong()));
    }

    /** Prunes {@code amount} of the channels along {@code dim} not yet removed, those of smallest {@code n}-norm. */
    public Pruning lnStructured(String name, Amount amount, Norm n, int dim) {
        return apply(name, new LnStructured(amount, n, dim));
    }

    /** As {@link #lnStructured(String, Amount, Norm, int)}, ranking by {@code importanceScores} instead. */
    public Pruning lnStructured(String name, Amount amount, Norm n, int dim, INDArray importanceScores) {
        return apply(name, new LnStructured(amount, n, dim), importanceScores);
    }

    /** Applies a given 0/1 mask (PyTorch layout) on top of the current one. */
    public Pruning customFromMask(String name, INDArray mask) {
        return apply(name, new CustomFromMask(mask));
    }

    /** N:M semi-structured sparsity along the input dimension (2:4 for sparse tensor cores). */
    public Pruning semiStructured(String name, int n, int m) {
        return apply(name, new SemiStructured(n, m, 1));
    }

    /** Applies any method, the parameter's own values ranking what to prune. */
    public Pruning apply(String name, PruningMethod method) {
        return apply(name, method, null);
    }

    /**
     * Applies any method, {@code importanceScores} (same shape as the parameter in PyTorch layout,
     * or null for the parameter itself) ranking what to prune. If the method fails, nothing changes.
     */
    public Pruning apply(String name, PruningMethod method, INDArray importanceScores) {
        Objects.requireNonNull(method, "method");
        PrunableParameter p = table.get(name);
        INDArray param = table.view(p);
        State state = states.get(p.name());
        if (state != null) {
            sync(state, param);
        }
        INDArray scores = importanceScores == null ? param : checkScores(p, importanceScores);
        INDArray mask = state == null ? firstMask(method, scores, p) : combine(method, scores, state.mask);
        if (!Arrays.equals(mask.shape(), p.shape())) {
            throw new IllegalStateException("method " + method + " returned a mask of shape "
                    + Arrays.toString(mask.shape()) + " for " + p.name() + " of shape " + Arrays.toString(p.shape())
                    + " (fix: computeMask must return a mask of the importance tensor's shape)");
        }
        commit(p, param, mask, mask == state(p) || mask == scores);
        return this;
    }

    private INDArray state(PrunableParameter p) {
        State s = states.get(p.name());
        return s == null ? null : s.mask;
    }

    /**
     * Prunes {@code amount} of the still-unpruned entries across all named parameters together by
     * magnitude (PyTorch's {@code global_unstructured} with {@code L1Unstructured}).
     */
    public Pruning globalUnstructured(Collection<String> names, Amount amount) {
        return globalUnstructured(names, new L1Unstructured(amount), Map.of());
    }

    /**
     * PyTorch's {@code global_unstructured}: the named parameters are pruned as one tensor by an
     * unstructured {@code method}; {@code importanceScores} may give scores for some of them.
     */
    public Pruning globalUnstructured(Collection<String> names, PruningMethod method,
            Map<String, INDArray> importanceScores) {
        if (method.type() != PruningType.UNSTRUCTURED) {
            throw new IllegalArgumentException("Only \"unstructured\" PRUNING_TYPE supported for the `pruning_method`."
                    + " Found method " + method + " of type " + method.type().name().toLowerCase(java.util.Locale.ROOT)
                    + " (fix: use an unstructured method such as L1Unstructured, or globalStructured for channels)");
        }
        List<PrunableParameter> params = resolve(names);
        Map<String, INDArray> scoresByName = new LinkedHashMap<>();
        importanceScores.forEach((k, v) -> scoresByName.put(table.get(k).name(), v));
        List<INDArray> scores = new ArrayList<>();
        List<INDArray> masks = new ArrayList<>();
        for (PrunableParameter p : params) {
            INDArray param = table.view(p);
            State state = states.get(p.name());
            if (state != null) {
                sync(state, param);
            }
            INDArray s = scoresByName.get(p.name());
            scores.add(s == null ? param : checkScores(p, s));
            masks.add(state == null ? Nd4j.ones(param.dataType(), p.shape()) : state.mask.dup('c'));
        }
        if (method instanceof InPlaceUnstructured inPlace) {
            pruneInPlace(inPlace, scores, masks);
        } else {
            combineUnstructured(method, scores, masks);
        }
        for (int i = 0; i < params.size(); i++) {
            PrunableParameter p = params.get(i);
            commit(p, table.view(p), masks.get(i), false);
        }
        return this;
    }

    /**
     * Beyond PyTorch: prunes {@code amount} of the channels (along {@code dim}) not yet removed,
     * across all named parameters together, ranked by their {@code n}-norm divided by the norm a
     * channel of ones of the same size would have, so layers of different fan-in compare fairly.
     * Every parameter keeps at least one channel.
     */
    public Pruning globalStructured(Collection<String> names, Amount amount, Norm n, int dim) {
        List<PrunableParameter> params = resolve(names);
        record Channel(int tensor, int index, double score) {
        }
        List<Channel> channels = new ArrayList<>();
        List<boolean[]> keep = new ArrayList<>();
        int[] alivePerTensor = new int[params.size()];
        int[] dims = new int[params.size()];
        for (int t = 0; t < params.size(); t++) {
            PrunableParameter p = params.get(t);
            INDArray param = table.view(p);
            State state = states.get(p.name());
            if (state != null) {
                sync(state, param);
            }
            long[] shape = p.shape();
            int d = Channels.checkDim(shape, dim);
            dims[t] = d;
            boolean[] alive = state == null ? filled((int) shape[d]) : Channels.alive(state.mask, d);
            double[] norms = n.channelNorms(Channels.values(param), shape, d);
            double unit = n.unitNorm(p.size() / shape[d]);
            for (int c = 0; c < alive.length; c++) {
                if (alive[c]) {
                    channels.add(new Channel(t, c, norms[c] / unit));
                    alivePerTensor[t]++;
                }
            }
            keep.add(alive.clone());
        }
        long k = amount.unitsToPrune(channels.size());
        long tensorsAlive = Arrays.stream(alivePerTensor).filter(a -> a > 0).count();
        if (k > channels.size() - tensorsAlive) {
            throw new IllegalArgumentException("amount=" + amount + " would prune " + k + " of the " + channels.size()
                    + " remaining channels, but every parameter keeps at least one: at most "
                    + (channels.size() - tensorsAlive) + " can go (fix: lower the amount)");
        }
        channels.sort(Comparator.comparingDouble(Channel::score));
        long pruned = 0;
        for (Channel c : channels) {
            if (pruned == k) {
                break;
            }
            if (alivePerTensor[c.tensor()] > 1) {
                keep.get(c.tensor())[c.index()] = false;
                alivePerTensor[c.tensor()]--;
                pruned++;
            }
        }
        for (int t = 0; t < params.size(); t++) {
            PrunableParameter p = params.get(t);
            INDArray param = table.view(p);
            State state = states.get(p.name());
            INDArray mask = Channels.mask(p.shape(), dims[t], keep.get(t), param.dataType());
            if (state != null) {
                mask.muli(state.mask);
            }
            commit(p, param, mask, false);
        }
        return this;
    }

    // ---- dependency groups (beyond PyTorch) -----------------------------------------------------

    /**
     * Which of the group's channels are alive: those that some masked member still has a non-zero mask entry for
     * (every channel of a member not pruned yet).
     */
    public boolean[] aliveChannels(ChannelGroup group) {
        return GroupPruning.alive(this, group);
    }

    /**
     * The group's channel scores under {@code importance}, for every channel (dead ones score 0 or close): higher
     * is more important. A one-member group's scores are exactly its channel norms.
     */
    public double[] groupImportance(ChannelGroup group, GroupImportance importance) {
        return GroupPruning.scores(this, group, importance).local();
    }

    /**
     * Prunes {@code amount} of the group's alive channels, those of lowest {@code importance}, from every member at
     * once: weights, biases, batch normalisation's scale and shift, the readers' inputs. On a one-member group
     * ({@link ChannelGroup#of}) this is exactly {@link #lnStructured}: the same channels, the same rounding. If it
     * fails, nothing changes.
     *
     * @throws IllegalArgumentException when the group cannot be pruned, does not fit this model, or a count
     *     exceeds the alive channels
     */
    public Pruning groupStructured(ChannelGroup group, Amount amount, GroupImportance importance) {
        return groupStructured(group, amount, importance, ChannelLimits.NONE);
    }

    /** As {@link #groupStructured(ChannelGroup, Amount, GroupImportance)}, keeping within {@code limits}. */
    public Pruning groupStructured(ChannelGroup group, Amount amount, GroupImportance importance,
            ChannelLimits limits) {
        GroupPruning.local(this, group, amount, groupImportance(group, importance), limits);
        return this;
    }

    /** As {@link #groupStructured(ChannelGroup, Amount, GroupImportance, ChannelLimits)}, channels chosen at random. */
    public Pruning randomGroupStructured(ChannelGroup group, Amount amount, ChannelLimits limits) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(random.nextLong());
        double[] scores = new double[group.channels()];
        for (int c = 0; c < scores.length; c++) {
            scores[c] = r.nextDouble();
        }
        GroupPruning.local(this, group, amount, scores, limits);
        return this;
    }

    /**
     * Prunes {@code amount} of the alive channels of all {@code groups} together, those of lowest per-entry
     * {@code importance} first (Torch-Pruning's global pruning): groups whose channels matter less lose more. Each
     * group keeps within {@code limits}, so fewer channels may go than asked; ties go to the later group and the
     * higher channel. If it fails, nothing changes.
     */
    public Pruning globalGroupStructured(Collection<ChannelGroup> groups, Amount amount, GroupImportance importance,
            ChannelLimits limits) {
        if (groups.isEmpty()) {
            throw new IllegalArgumentException("no groups given (fix: pass DependencyGroups.prunable())");
        }
        GroupPruning.global(this, List.copyOf(groups), amount, importance, limits);
        return this;
    }

    /** Multiplies the mask of {@code name} by {@code mask} (PyTorch layout, this state takes it over). */
    void restrict(String name, INDArray mask) {
        PrunableParameter p = table.get(name);
        INDArray param = table.view(p);
        State state = states.get(p.name());
        if (state != null) {
            sync(state, param);
            mask.muli(state.mask);
        }
        commit(p, param, mask, false);
    }

    /** Makes the pruning of {@code name} permanent: the parameter keeps {@code orig * mask}, the state goes. */
    public Pruning remove(String name) {
        PrunableParameter p = table.get(name);
        State state = states.get(p.name());
        if (state == null) {
            throw new IllegalArgumentException("Parameter '" + p.attribute() + "' of module " + p.layer()
                    + " has to be pruned before pruning can be removed (fix: prune " + p.name()
                    + " first, or check isPruned)");
        }
        sync(state, table.view(p));
        states.remove(p.name());
        version++;
        return this;
    }

    /** {@link #remove} on every pruned parameter. */
    public Pruning removeAll() {
        List.copyOf(states.keySet()).forEach(this::remove);
        return this;
    }

    /** Whether {@code name} has pruning state ({@code _orig} and {@code _mask}). */
    public boolean isPruned(String name) {
        return states.containsKey(table.get(name).name());
    }

    /** Whether any parameter of the model is pruned (PyTorch's {@code prune.is_pruned(module)}). */
    public boolean isPruned() {
        return !states.isEmpty();
    }

    /** Names (PyTorch-style) of the pruned parameters, in model order. */
    public List<String> prunedNames() {
        return table.parameters().stream().map(PrunableParameter::name).filter(states::containsKey).toList();
    }

    /** The live mask of a pruned parameter (PyTorch layout); read it, don't write it. */
    public INDArray mask(String name) {
        return state(name).mask;
    }

    /** The original values of a pruned parameter (PyTorch layout), the unpruned ones as trained. */
    public INDArray orig(String name) {
        PrunableParameter p = table.get(name);
        State state = state(name);
        sync(state, table.view(p));
        return state.orig;
    }

    /** The parameter's effective value in PyTorch layout: a view of the model's own parameter. */
    public INDArray weight(String name) {
        PrunableParameter p = table.get(name);
        State state = states.get(p.name());
        if (state != null) {
            sync(state, table.view(p));
        }
        return table.view(p);
    }

    /**
     * Looks a tensor up by a state-dict key: {@code conv1.weight_mask}, {@code conv1.weight_orig},
     * {@code conv1.weight} (effective), or the same with DL4J keys ({@code 0_W_mask}).
     *
     * @throws IllegalArgumentException when no such tensor exists
     */
    public INDArray get(String key) {
        if (table.contains(key)) {
            return weight(key);
        }
        for (String suffix : List.of("_orig", "_mask")) {
            if (key.endsWith(suffix)) {
                String base = key.substring(0, key.length() - suffix.length());
                if (table.contains(base) && isPruned(base)) {
                    return suffix.equals("_orig") ? orig(base) : mask(base);
                }
            }
        }
        throw new IllegalArgumentException("no tensor '" + key + "' (fix: a parameter name such as "
                + table.parameters().get(0).name() + ", or <name>_orig / <name>_mask of a pruned one)");
    }

    /** Whether {@link #get(String)} would find {@code key}. */
    public boolean has(String key) {
        try {
            get(key);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * The state in PyTorch's {@code state_dict} layout: {@code <name>_orig} and {@code <name>_mask}
     * for pruned parameters, {@code <name>} for the others, in model order. The arrays are live.
     */
    public Map<String, INDArray> stateDict() {
        Map<String, INDArray> dict = new LinkedHashMap<>();
        for (PrunableParameter p : table.parameters()) {
            State state = states.get(p.name());
            if (state == null) {
                dict.put(p.name(), table.view(p));
            } else {
                sync(state, table.view(p));
                dict.put(p.name() + "_orig", state.orig);
                dict.put(p.name() + "_mask", state.mask);
            }
        }
        return dict;
    }

    /**
     * Restores a {@link #stateDict()}: pruned parameters get their {@code _orig} and {@code _mask}
     * back and the model its effective values; unpruned ones are assigned. Keys may be DL4J's.
     */
    public void loadStateDict(Map<String, INDArray> dict) {
        Map<String, INDArray> origs = new LinkedHashMap<>();
        Map<String, INDArray> masks = new LinkedHashMap<>();
        for (Map.Entry<String, INDArray> e : dict.entrySet()) {
            String key = e.getKey();
            if (key.endsWith("_orig") && !table.contains(key)) {
                origs.put(table.get(key.substring(0, key.length() - 5)).name(), e.getValue());
            } else if (key.endsWith("_mask") && !table.contains(key)) {
                masks.put(table.get(key.substring(0, key.length() - 5)).name(), e.getValue());
            } else {
                PrunableParameter p = table.get(key);
                checkShape(p, e.getValue(), key);
                states.remove(p.name());
                table.view(p).assign(e.getValue());
            }
        }
        if (!origs.keySet().equals(masks.keySet())) {
            throw new IllegalArgumentException("state has _orig for " + origs.keySet() + " but _mask for "
                    + masks.keySet() + " (fix: every pruned parameter needs both)");
        }
        for (String name : origs.keySet()) {
            PrunableParameter p = table.get(name);
            checkShape(p, origs.get(name), name + "_orig");
            checkShape(p, masks.get(name), name + "_mask");
            INDArray param = table.view(p);
            State state = new State(origs.get(name).castTo(param.dataType()).dup('c'),
                    masks.get(name).castTo(param.dataType()).dup('c'));
            states.put(p.name(), state);
            writeEffective(state, param);
        }
        version++;
    }

    /**
     * Puts the zeros back after the model's parameters were updated: every pruned entry of the
     * model becomes 0 again ({@code param *= mask}). Cheap enough to call after every step.
     */
    public void applyMasks() {
        for (Map.Entry<String, State> e : states.entrySet()) {
            table.view(table.get(e.getKey())).muli(e.getValue().mask);
        }
    }

    /**
     * The masks of the pruned parameters laid out as the model's own parameters (DL4J shape and
     * memory order), keyed by DL4J key ({@code 0_W}, {@code conv1_W}): multiply a gradient or a
     * parameter by one of these with {@code muli}. New arrays; recompute them when
     * {@link #version()} changes.
     */
    public Map<String, INDArray> masksInModelLayout() {
        Map<String, INDArray> masks = new LinkedHashMap<>();
        for (PrunableParameter p : table.parameters()) {
            State state = states.get(p.name());
            if (state != null) {
                masks.put(p.key(), table.toModelLayout(p, state.mask));
            }
        }
        return masks;
    }

    /** A counter that changes whenever a mask is added, changed or removed. */
    public long version() {
        return version;
    }

    /** Sparsity of every parameter (zeros of the effective value) and of all together. */
    public SparsityReport report() {
        return report(table.parameters().stream().map(PrunableParameter::name).toList());
    }

    /** Sparsity of the named parameters and of all of them together. */
    public SparsityReport report(Collection<String> names) {
        List<SparsityReport.Entry> entries = new ArrayList<>();
        for (PrunableParameter p : resolve(names)) {
            INDArray w = weight(p.name());
            long zeros = w.length()
                    - w.neq(0).castTo(org.nd4j.linalg.api.buffer.DataType.INT64).sumNumber().longValue();
            State state = states.get(p.name());
            long masked = state == null ? 0
                    : state.mask.length() - state.mask.neq(0).castTo(org.nd4j.linalg.api.buffer.DataType.INT64)
                            .sumNumber().longValue();
            entries.add(new SparsityReport.Entry(p.name(), p.shape(), p.size(), zeros, masked));
        }
        return SparsityReport.of(entries);
    }

    // ---- machinery -----------------------------------------------------------------------------

    private List<PrunableParameter> resolve(Collection<String> names) {
        if (names.isEmpty()) {
            throw new IllegalArgumentException(
                    "no parameters given (fix: name at least one, e.g. from prunableWeights())");
        }
        List<PrunableParameter> params = names.stream().map(table::get).distinct().collect(Collectors.toList());
        return params;
    }

    private State state(String name) {
        PrunableParameter p = table.get(name);
        State state = states.get(p.name());
        if (state == null) {
            throw new IllegalArgumentException("parameter " + p.name() + " is not pruned, so it has no _orig or _mask"
                    + " (fix: prune it first, or check isPruned)");
        }
        return state;
    }

    private static INDArray checkScores(PrunableParameter p, INDArray scores) {
        if (!Arrays.equals(scores.shape(), p.shape())) {
            throw new IllegalArgumentException("importance_scores should have the same shape as parameter "
                    + p.attribute() + " of " + p.layer() + ": got " + Arrays.toString(scores.shape()) + ", expected "
                    + Arrays.toString(p.shape())
                    + " (fix: give scores in PyTorch layout, [out, in] for a dense weight)");
        }
        return scores;
    }

    private static void checkShape(PrunableParameter p, INDArray value, String key) {
        if (!Arrays.equals(value.shape(), p.shape())) {
            throw new IllegalArgumentException(key + " has shape " + Arrays.toString(value.shape())
                    + " but the model's " + p.name() + " has " + Arrays.toString(p.shape())
                    + " (fix: state from a different model? shapes are in PyTorch layout)");
        }
    }

    /** First pruning of a parameter: the method sees the whole tensor and a mask of ones. */
    private static INDArray firstMask(PruningMethod method, INDArray scores, PrunableParameter p) {
        INDArray ones = Nd4j.ones(
                scores.dataType().isFPType() ? scores.dataType() : org.nd4j.linalg.api.buffer.DataType.FLOAT,
                p.shape());
        if (method instanceof InPlaceUnstructured inPlace) {
            pruneInPlace(inPlace, List.of(scores), List.of(ones));
            return ones;
        }
        return method.computeMask(scores, ones);
    }

    /** PyTorch's {@code _combine_masks}: the method works on what is still unpruned. */
    private static INDArray combine(PruningMethod method, INDArray scores, INDArray mask) {
        switch (method.type()) {
            case UNSTRUCTURED : {
                INDArray newMask = mask.dup('c');
                if (method instanceof InPlaceUnstructured inPlace) {
                    pruneInPlace(inPlace, List.of(scores), List.of(newMask));
                } else {
                    combineUnstructured(method, List.of(scores), List.of(newMask));
                }
                return newMask;
            }
            case STRUCTURED : {
                if (!(method instanceof StructuredPruningMethod structured)) {
                    throw new IllegalArgumentException("Pruning methods of PRUNING_TYPE \"structured\" need to have"
                            + " the attribute `dim` defined (fix: implement StructuredPruningMethod)");
                }
                int d = Channels.checkDim(mask.shape(), structured.dim());
                boolean[] alive = Channels.alive(mask, d);
                int[] kept = java.util.stream.IntStream.range(0, alive.length).filter(c -> alive[c]).toArray();
                if (kept.length == 0) {
                    // PyTorch hands the method an empty tensor: a fraction prunes nothing, a count > 0 is refused
                    if (method instanceof LnStructured ln) {
                        ln.amount().unitsToPrune(0);
                    } else if (method instanceof RandomStructured r) {
                        r.amount().unitsToPrune(0);
                    }
                    return mask.dup('c');
                }
                INDArray partial = method.computeMask(Channels.select(scores, d, kept), Channels.select(mask, d, kept));
                INDArray newMask = mask.dup('c');
                Channels.scatter(newMask, d, kept, partial);
                return newMask;
            }
            default :
                return method.computeMask(scores, mask.dup());
        }
    }

    /**
     * The built-in unstructured methods' container step, without copies: {@code amount} of the
     * entries still unpruned (mask == 1) across all tensors, masks written in place.
     */
    private static void pruneInPlace(InPlaceUnstructured method, List<INDArray> scores, List<INDArray> masks) {
        List<FloatView> views = masks.stream().map(FloatView::of).toList();
        List<Selection.Segment> segments = new ArrayList<>();
        for (int i = 0; i < masks.size(); i++) {
            segments.add(new Selection.Segment(FloatView.of(scores.get(i)), views.get(i)));
        }
        method.pruneUnpruned(segments, method.amount().unitsToPrune(Selection.countCandidates(segments)));
        views.forEach(FloatView::commit);
    }

    /**
     * The general unstructured container step: gathers the unpruned entries of all tensors into one
     * 1-D tensor, lets the method compute a mask on it, and scatters the result back into
     * {@code masks} (modified in place).
     */
    private static void combineUnstructured(PruningMethod method, List<INDArray> scores, List<INDArray> masks) {
        List<float[]> values = scores.stream().map(Channels::values).toList();
        List<float[]> maskValues = masks.stream().map(Channels::values).toList();
        int n = 0;
        for (float[] m : maskValues) {
            for (float x : m) {
                n += x == 1f ? 1 : 0;
            }
        }
        float[] gathered = new float[n];
        int j = 0;
        for (int t = 0; t < values.size(); t++) {
            float[] m = maskValues.get(t);
            for (int i = 0; i < m.length; i++) {
                if (m[i] == 1f) {
                    gathered[j++] = values.get(t)[i];
                }
            }
        }
        float[] result = Channels.values(method.computeMask(Nd4j.createFromArray(gathered),
                Nd4j.ones(org.nd4j.linalg.api.buffer.DataType.FLOAT, n)));
        j = 0;
        for (int t = 0; t < masks.size(); t++) {
            float[] m = maskValues.get(t);
            for (int i = 0; i < m.length; i++) {
                if (m[i] == 1f) {
                    m[i] = result[j++];
                }
            }
            masks.get(t).assign(Nd4j.createFromArray(m).reshape(masks.get(t).shape()).castTo(masks.get(t).dataType()));
        }
    }

    /**
     * Makes {@code mask} the parameter's mask and writes the effective value. The mask is copied
     * when {@code copy} is set or when it is not already C-order in the parameter's type; otherwise
     * this state takes it over (the internal paths hand over masks they made).
     */
    private void commit(PrunableParameter p, INDArray param, INDArray mask, boolean copy) {
        State state = states.get(p.name());
        INDArray cMask = !copy && mask.dataType() == param.dataType() && FloatView.isDirect(mask) && !mask.isView()
                ? mask : mask.castTo(param.dataType()).dup('c');
        if (state == null) {
            state = new State(param.dup('c'), cMask);
            states.put(p.name(), state);
        } else {
            state.mask = cMask;
        }
        version++;
        writeEffective(state, param);
    }

    /** The model's parameter becomes {@code orig * mask}. */
    private static void writeEffective(State state, INDArray param) {
        if (param.dataType() != org.nd4j.linalg.api.buffer.DataType.FLOAT) {
            param.assign(state.orig.mul(state.mask)); // FloatView would round other types through float
            return;
        }
        FloatView w = FloatView.of(param);
        FloatView o = FloatView.of(state.orig);
        FloatView m = FloatView.of(state.mask);
        for (int i = 0; i < w.length(); i++) {
            w.set(i, o.get(i) * m.get(i));
        }
        w.commit();
    }

    /**
     * Reads training's changes back: unpruned entries (mask 1) of {@code orig} take the model's
     * values; the model's other entries go back to {@code orig * mask}.
     */
    private static void sync(State state, INDArray param) {
        if (param.dataType() != org.nd4j.linalg.api.buffer.DataType.FLOAT) {
            syncExact(state, param);
            return;
        }
        FloatView w = FloatView.of(param);
        FloatView o = FloatView.of(state.orig);
        FloatView m = FloatView.of(state.mask);
        boolean changed = false;
        for (int i = 0; i < w.length(); i++) {
            float mi = m.get(i);
            if (mi == 1f) {
                o.set(i, w.get(i));
            } else {
                float e = o.get(i) * mi;
                if (Float.floatToRawIntBits(e) != Float.floatToRawIntBits(w.get(i))) {
                    w.set(i, e);
                    changed = true;
                }
            }
        }
        o.commit();
        if (changed) {
            w.commit();
        }
    }

    /** {@link #sync} through doubles, for parameters that are not float32 (FloatView would round them). */
    private static void syncExact(State state, INDArray param) {
        double[] w = doubles(param);
        double[] o = doubles(state.orig);
        double[] m = doubles(state.mask);
        for (int i = 0; i < w.length; i++) {
            if (m[i] == 1) {
                o[i] = w[i];
            } else {
                w[i] = o[i] * m[i];
            }
        }
        state.orig.assign(Nd4j.createFromArray(o).reshape('c', state.orig.shape()).castTo(state.orig.dataType()));
        param.assign(Nd4j.createFromArray(w).reshape('c', param.shape()).castTo(param.dataType()));
    }

    private static double[] doubles(INDArray t) {
        INDArray c = t.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).dup('c');
        return c.reshape(c.length()).toDoubleVector();
    }

    private static boolean[] filled(int n) {
        boolean[] b = new boolean[n];
        Arrays.fill(b, true);
        return b;
    }
}
