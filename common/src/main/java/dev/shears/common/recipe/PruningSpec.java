package dev.shears.common.recipe;

import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The {@code pruning} section: which parameters are pruned, and how.
 *
 * <p>Parameters are named PyTorch-style, {@code <layer>.<attribute>} ({@code conv1.weight},
 * {@code fc1.bias}, {@code layer1.0.bn1.weight}). A parameter is pruned when it matches at least one of
 * {@code parameters} and none of {@code exclude}, and either is a weight of one of {@code kinds} (convolution,
 * depthwise convolution, dense) or is named exactly, without a wildcard: a glob such as {@code *} or
 * {@code *.weight} never selects a batch normalisation's parameters or a bias; {@code bn1.weight} does.
 *
 * <p>Structured methods prune channels, of each parameter on its own as PyTorch does ({@code structured.groups:
 * parameter}), or by dependency groups ({@code structured.groups: dependency}): the channels of a convolution or
 * dense layer together with everything tied to them (batch norm, the readers' inputs, residual additions,
 * depthwise convolutions), a group selected when one of its producers' weights is and pinned when any of its
 * members is excluded; the schedule's targets are then fractions of the selected groups' channels.
 *
 * @param parameters globs ({@code *} any characters, {@code ?} one); at least one
 * @param kinds which weights a glob with a wildcard selects; at least one
 * @param exclude globs taken out of what {@code parameters} selects; may be empty
 * @param method the pruning method
 * @param norm the channel norm of {@code ln_structured}: {@code "1"}, {@code "2"}, {@code "inf"},
 *     {@code "-inf"}, {@code "fro"} or another number, in canonical spelling (for the prune
 *     library's {@code Norm.parse}); present exactly for {@link Method#LN_STRUCTURED}
 * @param dim the dimension whose channels structured methods prune (0 = output units or filters),
 *     in [-4, 3], 0 for dependency groups; present exactly for {@link Method#LN_STRUCTURED} and
 *     {@link Method#RANDOM_STRUCTURED}
 * @param nm the pattern of {@code n_m}; present exactly for {@link Method#N_M}
 * @param scope whether the schedule's target holds over all selected parameters (or groups) together or for
 *     each on its own
 * @param structured how structured methods choose channels; present exactly for the structured methods
 * @param overrides per-parameter final targets that replace the schedule's; not for {@code n_m}
 */
public record PruningSpec(
        List<String> parameters,
        List<WeightKind> kinds,
        List<String> exclude,
        Method method,
        Optional<String> norm,
        OptionalInt dim,
        Optional<NmPattern> nm,
        Scope scope,
        Optional<Structured> structured,
        List<TargetOverride> overrides) {

    static final String SECTION = "pruning";
    /** The norm ln_structured gets when none is given: L2. */
    public static final String DEFAULT_NORM = "2";
    /** The dim structured methods get when none is given: output units or filters. */
    public static final int DEFAULT_DIM = 0;

    /** PyTorch's {@code torch.nn.utils.prune} functions, plus N:M. */
    public enum Method {
        /** Smallest |w| first: {@code prune.l1_unstructured} (global: {@code global_unstructured}). */
        L1_UNSTRUCTURED,
        /** Uniformly random entries: {@code prune.random_unstructured}. */
        RANDOM_UNSTRUCTURED,
        /** Channels of smallest norm along {@code dim}: {@code prune.ln_structured}. */
        LN_STRUCTURED,
        /** Random channels along {@code dim}: {@code prune.random_structured}. */
        RANDOM_STRUCTURED,
        /** N:M semi-structured: keeps the N largest of every M along the input dimension (sparsity 1 - N/M). */
        N_M;

        /** Whether {@code pruning.norm} applies. */
        public boolean usesNorm() {
            return this == LN_STRUCTURED;
        }

        /** Whether {@code pruning.dim} applies. */
        public boolean usesDim() {
            return this == LN_STRUCTURED || this == RANDOM_STRUCTURED;
        }

        /** Whether {@code pruning.nm} applies. */
        public boolean usesNm() {
            return this == N_M;
        }

        /** The recipe's spelling, e.g. {@code l1_unstructured}. */
        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Where the schedule's sparsity target applies. */
    public enum Scope {
        /** Over all selected parameters together: small layers may end sparser than large ones. */
        GLOBAL,
        /** To each selected parameter on its own. */
        LOCAL;

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The weights a wildcard glob selects. */
    public enum WeightKind {
        /** Convolutions' weights, separable convolutions' pointwise weights. */
        CONV,
        /** Depthwise convolutions' weights, separable convolutions' depthwise weights. */
        DEPTHWISE,
        /** Dense and output layers' weights. */
        DENSE;

        /** The recipe's spelling, e.g. {@code conv}. */
        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The {@code pruning.structured} block.
     *
     * @param groups what one channel is pruned from
     * @param reduction how a dependency group's members' norms combine into a channel's score; present exactly for
     *     {@link Groups#DEPENDENCY}
     * @param minChannels channels every dependency group keeps, in [0, 65536]; present exactly for dependency groups
     * @param roundTo a dependency group keeps a multiple of this many channels, in [1, 4096]; present exactly for
     *     dependency groups
     */
    public record Structured(Groups groups, Optional<Reduction> reduction, OptionalInt minChannels,
            OptionalInt roundTo) {
        static final String FIELD = SECTION + ".structured";
        public static final int DEFAULT_MIN_CHANNELS = 1;
        public static final int DEFAULT_ROUND_TO = 1;

        /** What one channel is pruned from. */
        public enum Groups {
            /** Each parameter's channels on their own: PyTorch's {@code ln_structured}. */
            PARAMETER,
            /** Dependency groups: every parameter tied to the channel. */
            DEPENDENCY;

            @Override
            public String toString() {
                return name().toLowerCase(Locale.ROOT);
            }
        }

        /** How a group's members' norms combine. */
        public enum Reduction {
            MEAN,
            SUM;

            @Override
            public String toString() {
                return name().toLowerCase(Locale.ROOT);
            }
        }

        public static final Structured PARAMETER = new Structured(Groups.PARAMETER, Optional.empty(),
                OptionalInt.empty(), OptionalInt.empty());
        public static final Structured DEPENDENCY = new Structured(Groups.DEPENDENCY, Optional.of(Reduction.MEAN),
                OptionalInt.of(DEFAULT_MIN_CHANNELS), OptionalInt.of(DEFAULT_ROUND_TO));

        /** @throws RecipeException when a field is out of range or given for the wrong groups */
        public Structured {
            Objects.requireNonNull(groups, "groups");
            Objects.requireNonNull(reduction, "reduction");
            Objects.requireNonNull(minChannels, "minChannels");
            Objects.requireNonNull(roundTo, "roundTo");
            Groups g = groups;
            Optional<Reduction> r = reduction;
            OptionalInt min = minChannels;
            OptionalInt round = roundTo;
            Problems.require(FIELD, p -> check(g, r, min, round, p));
        }

        static void check(Groups groups, Optional<Reduction> reduction, OptionalInt minChannels, OptionalInt roundTo,
                Problems p) {
            if (groups == null) {
                return;
            }
            String needs = " (fix: give one, or use Structured.DEPENDENCY's defaults)";
            p.takenOnlyBy(FIELD + ".reduction", reduction, "structured.groups", groups, Groups.DEPENDENCY::equals,
                    "a reduction" + needs);
            if (p.takenOnlyBy(FIELD + ".minChannels", minChannels, "structured.groups", groups,
                    Groups.DEPENDENCY::equals, "a minimum of channels" + needs)) {
                p.range(FIELD + ".minChannels", minChannels.getAsInt(), 0, 65536, "e.g. 1, or 8 to keep eight");
            }
            if (p.takenOnlyBy(FIELD + ".roundTo", roundTo, "structured.groups", groups, Groups.DEPENDENCY::equals,
                    "a multiple to round to" + needs)) {
                p.range(FIELD + ".roundTo", roundTo.getAsInt(), 1, 4096, "1 for none, e.g. 8 for SIMD-friendly sizes");
            }
        }
    }

    /**
     * One entry of {@code pruning.overrides}: the parameters (or, with dependency groups, the groups whose
     * producers' weights) that {@code parameters} selects are pruned to {@code sparsity} at the schedule's end
     * instead of its final target, each on its own, along the same schedule scaled by
     * {@code sparsity / finalSparsity}. The first override that selects a parameter applies.
     *
     * @param parameters globs, at least one
     * @param sparsity the final target, in [0, 1) (0 = leave them dense)
     */
    public record TargetOverride(List<String> parameters, double sparsity) {
        /** @throws RecipeException when a glob is invalid or the sparsity out of range */
        public TargetOverride {
            List<String> ps = List.copyOf(parameters);
            double s = sparsity;
            Problems.require(SECTION + ".overrides", p -> check(SECTION + ".overrides[0]", ps, s, p));
            parameters = ps;
        }

        static void check(String field, List<String> parameters, Double sparsity, Problems p) {
            if (parameters != null) {
                if (parameters.isEmpty()) {
                    p.add(field + ".parameters", parameters, "selects nothing: give at least one glob"
                            + " (fix: e.g. [\"layer3.*\"])");
                }
                checkGlobs(field + ".parameters", parameters, p);
            }
            p.range(field + ".sparsity", sparsity, 0, true, 1, false, "e.g. 0.3");
        }

        /** Whether this override selects {@code name}. */
        public boolean selects(String name) {
            return parameters.stream().anyMatch(g -> Glob.matches(g, name));
        }
    }

    /**
     * Keeps {@code norm} in canonical spelling.
     *
     * @throws RecipeException listing every invalid glob and every field given for the wrong method
     */
    public PruningSpec {
        List<String> ps = List.copyOf(parameters);
        List<WeightKind> ks = List.copyOf(kinds);
        List<String> ex = List.copyOf(exclude);
        List<TargetOverride> os = List.copyOf(overrides);
        Optional<String> n = Objects.requireNonNull(norm, "norm");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(dim, "dim");
        Objects.requireNonNull(nm, "nm");
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(structured, "structured");
        Optional<Structured> st = structured;
        Problems.require(SECTION, p -> check(ps, ks, ex, method, n, dim, nm, st, os, p));
        parameters = ps;
        kinds = ks;
        exclude = ex;
        overrides = os;
        norm = n.map(PruningSpec::canonicalNorm);
    }

    /**
     * A spec without kinds or overrides of its own: every kind, and per-parameter channels for the structured
     * methods, as before dependency groups.
     */
    public PruningSpec(List<String> parameters, List<String> exclude, Method method, Optional<String> norm,
            OptionalInt dim, Optional<NmPattern> nm, Scope scope) {
        this(parameters, List.of(WeightKind.values()), exclude, method, norm, dim, nm, scope,
                method.usesDim() ? Optional.of(Structured.PARAMETER) : Optional.empty(), List.of());
    }

    /** Global L1 unstructured pruning of every convolution, depthwise and dense weight ({@code *}). */
    public static PruningSpec defaults() {
        return new PruningSpec(List.of("*"), List.of(), Method.L1_UNSTRUCTURED, Optional.empty(),
                OptionalInt.empty(), Optional.empty(), Scope.GLOBAL);
    }

    /** Whether {@code name} matches a parameter glob and no exclude glob (by name only; see {@link #selects(String, Optional)}). */
    public boolean selects(String name) {
        return parameters.stream().anyMatch(g -> Glob.matches(g, name)) && !excludes(name);
    }

    /**
     * Whether the parameter called {@code name}, a weight of {@code kind} (empty for a batch normalisation's
     * parameters, biases and the like), is pruned: it matches a glob and no exclude glob, and is of a selected kind
     * or named exactly by a glob without a wildcard.
     */
    public boolean selects(String name, Optional<WeightKind> kind) {
        if (excludes(name)) {
            return false;
        }
        boolean byKind = kind.isPresent() && kinds.contains(kind.get());
        return parameters.stream().anyMatch(g -> g.equals(name) || byKind && Glob.matches(g, name));
    }

    /** Whether an exclude glob matches {@code name}. */
    public boolean excludes(String name) {
        return exclude.stream().anyMatch(g -> Glob.matches(g, name));
    }

    /** The names {@link #selects(String) selected}, in the order given. */
    public List<String> select(Collection<String> names) {
        return names.stream().filter(this::selects).toList();
    }

    /** Whether channels are pruned by dependency groups. */
    public boolean byDependencyGroups() {
        return structured.map(s -> s.groups() == Structured.Groups.DEPENDENCY).orElse(false);
    }

    /** The first override that selects {@code name}, if any. */
    public Optional<TargetOverride> overrideFor(String name) {
        return overrides.stream().filter(o -> o.selects(name)).findFirst();
    }

    /**
     * The canonical spelling of an {@code ln_structured} norm: {@code fro}, {@code inf},
     * {@code -inf}, or the number ({@code "2.0"} becomes {@code "2"}).
     *
     * @throws RecipeException when {@code norm} is none of these
     */
    public static String canonicalNorm(String norm) {
        Problems p = new Problems();
        String canonical = canonicalNorm(norm, p);
        p.throwIfAny(SECTION + ".norm");
        return canonical;
    }

    static String canonicalNorm(String norm, Problems p) {
        String s = norm.trim().toLowerCase(Locale.ROOT);
        switch (s) {
            case "fro" :
                return "fro";
            case "inf", "+inf", ".inf", "+.inf" :
                return "inf";
            case "-inf", "-.inf" :
                return "-inf";
            default :
                break;
        }
        try {
            double v = Double.parseDouble(s);
            if (Double.isFinite(v) && !s.endsWith("d") && !s.endsWith("f")) {
                return Problems.num(v);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        p.add(SECTION + ".norm", norm, "is not a norm: must be \"1\", \"2\", \"inf\", \"-inf\", \"fro\" or another"
                + " number (fix: e.g. norm: \"2\" for the L2 norm)");
        return null;
    }

    /** The checks; a null argument was already reported as unreadable and is skipped. */
    static void check(List<String> parameters, List<WeightKind> kinds, List<String> exclude, Method method,
            Optional<String> norm, OptionalInt dim, Optional<NmPattern> nm, Optional<Structured> structured,
            List<TargetOverride> overrides, Problems p) {
        if (kinds != null && kinds.isEmpty()) {
            p.add(SECTION + ".kinds", kinds, "selects no kind of weight: give at least one of conv, depthwise, dense"
                    + " (fix: e.g. [conv, dense])");
        }
        if (parameters != null) {
            if (parameters.isEmpty()) {
                p.add(SECTION + ".parameters", parameters, "selects nothing: give at least one glob"
                        + " (fix: e.g. [\"*.weight\"] for every weight)");
            }
            checkGlobs(SECTION + ".parameters", parameters, p);
        }
        if (exclude != null) {
            checkGlobs(SECTION + ".exclude", exclude, p);
        }
        if (method == null) {
            return;
        }
        if (p.takenOnlyBy(SECTION + ".norm", norm, "method", method, Method::usesNorm,
                "a norm (fix: e.g. norm: \"2\")")) {
            canonicalNorm(norm.get(), p);
        }
        if (p.takenOnlyBy(SECTION + ".dim", dim, "method", method, Method::usesDim,
                "a dim (fix: e.g. dim: 0 for output units or filters)")) {
            p.range(SECTION + ".dim", dim.getAsInt(), -4, 3, "0 prunes output units or filters, 1 inputs");
        }
        p.takenOnlyBy(SECTION + ".nm", nm, "method", method, Method::usesNm, "a pattern (fix: e.g. nm: \"2:4\")");
        Optional<Structured.Groups> groups = structured == null ? null : structured.map(Structured::groups);
        if (p.takenOnlyBy(Structured.FIELD, groups, "method", method, Method::usesDim,
                "a structured block (fix: e.g. Structured.PARAMETER)")
                && structured.get().groups() == Structured.Groups.DEPENDENCY && dim != null && dim.isPresent()
                && dim.getAsInt() != 0) {
            p.add(SECTION + ".dim", dim.getAsInt(), "does not apply to structured.groups dependency, which prunes"
                    + " output channels (fix: remove dim, or set it to 0)");
        }
        if (overrides != null && !overrides.isEmpty() && method == Method.N_M) {
            int n = overrides.size();
            p.add(SECTION + ".overrides", new Problems.Raw("with " + n + (n == 1 ? " entry" : " entries")),
                    "is not used by method n_m: it applies one pattern at the first step, there is no schedule to"
                            + " override (fix: remove overrides, or change method)");
        }
    }

    static void checkGlobs(String field, List<String> globs, Problems p) {
        for (int i = 0; i < globs.size(); i++) {
            String g = globs.get(i);
            if (g != null && !Glob.ALLOWED.matcher(g).matches()) {
                p.add(field + "[" + i + "]", g, "is not a valid glob: must be " + Glob.RULE);
            }
        }
    }
}
