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
 * {@code fc1.bias}). A parameter is pruned when it matches at least one of {@code parameters} and
 * none of {@code exclude}.
 *
 * @param parameters globs ({@code *} any characters, {@code ?} one); at least one
 * @param exclude globs taken out of what {@code parameters} selects; may be empty
 * @param method the pruning method
 * @param norm the channel norm of {@code ln_structured}: {@code "1"}, {@code "2"}, {@code "inf"},
 *     {@code "-inf"}, {@code "fro"} or another number, in canonical spelling (for the prune
 *     library's {@code Norm.parse}); present exactly for {@link Method#LN_STRUCTURED}
 * @param dim the dimension whose channels structured methods prune (0 = output units or filters),
 *     in [-4, 3]; present exactly for {@link Method#LN_STRUCTURED} and {@link Method#RANDOM_STRUCTURED}
 * @param nm the pattern of {@code n_m}; present exactly for {@link Method#N_M}
 * @param scope whether the schedule's target holds over all selected parameters together or for
 *     each on its own
 */
public record PruningSpec(
        List<String> parameters,
        List<String> exclude,
        Method method,
        Optional<String> norm,
        OptionalInt dim,
        Optional<NmPattern> nm,
        Scope scope) {

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

    /**
     * Keeps {@code norm} in canonical spelling.
     *
     * @throws RecipeException listing every invalid glob and every field given for the wrong method
     */
    public PruningSpec {
        List<String> ps = List.copyOf(parameters);
        List<String> ex = List.copyOf(exclude);
        Optional<String> n = Objects.requireNonNull(norm, "norm");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(dim, "dim");
        Objects.requireNonNull(nm, "nm");
        Objects.requireNonNull(scope, "scope");
        Problems.require(SECTION, p -> check(ps, ex, method, n, dim, nm, p));
        parameters = ps;
        exclude = ex;
        norm = n.map(PruningSpec::canonicalNorm);
    }

    /** Global L1 unstructured pruning of every weight ({@code *.weight}). */
    public static PruningSpec defaults() {
        return new PruningSpec(List.of("*.weight"), List.of(), Method.L1_UNSTRUCTURED, Optional.empty(),
                OptionalInt.empty(), Optional.empty(), Scope.GLOBAL);
    }

    /** Whether the parameter called {@code name} is pruned: it matches a parameter glob and no exclude glob. */
    public boolean selects(String name) {
        return parameters.stream().anyMatch(g -> Glob.matches(g, name))
                && exclude.stream().noneMatch(g -> Glob.matches(g, name));
    }

    /** The names {@link #selects selected}, in the order given. */
    public List<String> select(Collection<String> names) {
        return names.stream().filter(this::selects).toList();
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
            case "fro":
                return "fro";
            case "inf", "+inf", ".inf", "+.inf":
                return "inf";
            case "-inf", "-.inf":
                return "-inf";
            default:
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
    static void check(List<String> parameters, List<String> exclude, Method method, Optional<String> norm,
                      OptionalInt dim, Optional<NmPattern> nm, Problems p) {
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
        if (norm != null) {
            if (norm.isPresent() && !method.usesNorm()) {
                p.add(SECTION + ".norm", norm.get(), notUsed(method, "ln_structured"));
            } else if (norm.isEmpty() && method.usesNorm()) {
                p.missing(SECTION + ".norm", "ln_structured needs a norm (fix: e.g. norm: \"2\")");
            } else if (norm.isPresent()) {
                canonicalNorm(norm.get(), p);
            }
        }
        if (dim != null) {
            if (dim.isPresent() && !method.usesDim()) {
                p.add(SECTION + ".dim", dim.getAsInt(), notUsed(method, "ln_structured and random_structured"));
            } else if (dim.isEmpty() && method.usesDim()) {
                p.missing(SECTION + ".dim", method + " needs a dim (fix: e.g. dim: 0 for output units or filters)");
            } else if (dim.isPresent()) {
                p.range(SECTION + ".dim", dim.getAsInt(), -4, 3, "0 prunes output units or filters, 1 inputs");
            }
        }
        if (nm != null) {
            if (nm.isPresent() && !method.usesNm()) {
                p.add(SECTION + ".nm", nm.get().toString(), notUsed(method, "n_m"));
            } else if (nm.isEmpty() && method.usesNm()) {
                p.missing(SECTION + ".nm", "n_m needs a pattern (fix: e.g. nm: \"2:4\")");
            }
        }
    }

    private static String notUsed(Method method, String users) {
        return "is not used by method " + method + ": it is for " + users + " only (fix: remove it, or change method)";
    }

    private static void checkGlobs(String field, List<String> globs, Problems p) {
        for (int i = 0; i < globs.size(); i++) {
            String g = globs.get(i);
            if (g != null && !Glob.ALLOWED.matcher(g).matches()) {
                p.add(field + "[" + i + "]", g, "is not a valid glob: must be " + Glob.RULE);
            }
        }
    }
}
