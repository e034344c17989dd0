package dev.shears.prune.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.prune.Amount;
import dev.shears.prune.ChannelGroup;
import dev.shears.prune.GroupImportance;
import dev.shears.prune.L1Unstructured;
import dev.shears.prune.Norm;
import dev.shears.prune.Pruning;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Runs every torch-prune conformance fixture (produced with real PyTorch) against {@link Pruning}:
 * one test per fixture file. The fixtures shipped in test resources always run; a directory given
 * as {@code -Dconformance.dir=/abs/path} runs as well.
 */
class ConformanceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<Named<Path>> fixtures() throws IOException, URISyntaxException {
        List<Path> dirs = new ArrayList<>();
        dirs.add(Paths.get(ConformanceTest.class.getResource("/conformance/torch-prune").toURI()));
        String extra = System.getProperty("conformance.dir");
        if (extra != null && !extra.isBlank()) {
            Path dir = Paths.get(extra);
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException("conformance.dir=" + extra
                        + " is not a directory (fix: give the absolute path of a folder of *.json fixtures)");
            }
            dirs.add(dir);
        }
        List<Named<Path>> all = new ArrayList<>();
        for (int i = 0; i < dirs.size(); i++) {
            String prefix = i == 0 ? "" : dirs.get(i).getFileName() + "/";
            try (Stream<Path> files = Files.list(dirs.get(i))) {
                files.filter(f -> f.toString().endsWith(".json")).sorted()
                        .forEach(f -> all.add(Named.of(prefix + f.getFileName().toString().replace(".json", ""), f)));
            }
        }
        assertThat(all).as("fixtures found").isNotEmpty();
        return all.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void matchesPyTorch(Path file) throws IOException {
        replay(file, false);
    }

    /** The fixtures that use ln_structured, its every call made on the parameter's one-member channel group. */
    static Stream<Named<Path>> lnStructuredFixtures() throws IOException, URISyntaxException {
        return fixtures().filter(f -> {
            try {
                Fixture fx = JSON.readValue(f.getPayload().toFile(), Fixture.class);
                return fx.steps().stream()
                        .anyMatch(s -> s.op().equals("ln_structured") && s.importanceScores() == null);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("lnStructuredFixtures")
    void oneMemberGroupsMatchPyTorchsLnStructured(Path file) throws IOException {
        replay(file, true);
    }

    private static void replay(Path file, boolean lnThroughGroups) throws IOException {
        Fixture fx = JSON.readValue(file.toFile(), Fixture.class);
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        fx.tensors().forEach((k, t) -> tensors.put(k, t.toArray()));
        Pruning pruning = Pruning.of(tensors).seed(20261123L);

        switch (fx.check()) {
            case "exact" -> {
                fx.steps().forEach(step -> run(pruning, step, lnThroughGroups));
                checkExpected(fx, pruning);
            }
            case "property" -> {
                fx.steps().forEach(step -> run(pruning, step, lnThroughGroups));
                checkExpected(fx, pruning);
                for (Fixture.Property p : fx.expectedProperties()) {
                    checkProperty(fx, pruning, p);
                }
            }
            case "error" -> {
                List<Fixture.Step> steps = fx.steps();
                steps.subList(0, steps.size() - 1).forEach(step -> run(pruning, step, lnThroughGroups));
                Throwable thrown = catchThrowable(() -> run(pruning, steps.get(steps.size() - 1), lnThroughGroups));
                checkError(fx, thrown);
                checkExpected(fx, pruning);
            }
            default -> fail("unknown check kind '" + fx.check() + "' in " + file);
        }
    }

    private static void run(Pruning pruning, Fixture.Step step, boolean lnThroughGroups) {
        String name = step.module() == null ? null : step.module() + "." + step.param();
        JsonNode args = step.args();
        INDArray scores = name != null && step.importanceScores() != null && step.importanceScores().containsKey(name)
                ? step.importanceScores().get(name).toArray() : null;
        switch (step.op()) {
            case "l1_unstructured" -> pruning.l1Unstructured(name, amount(args), scores);
            case "random_unstructured" -> pruning.randomUnstructured(name, amount(args));
            case "ln_structured" -> {
                Norm n = Norm.parse(args.get("n").asText());
                int dim = args.get("dim").asInt();
                if (lnThroughGroups && scores == null) {
                    ChannelGroup group = ChannelGroup.of(pruning.parameter(name), dim);
                    pruning.groupStructured(group, amount(args), new GroupImportance(n, GroupImportance.Reduction.MEAN,
                            Set.of(ChannelGroup.Role.OUTPUT)));
                } else {
                    pruning.lnStructured(name, amount(args), n, dim, scores);
                }
            }
            case "random_structured" -> pruning.randomStructured(name, amount(args), args.get("dim").asInt());
            case "identity" -> pruning.identity(name);
            case "custom_from_mask" -> pruning.customFromMask(name, step.mask().toArray());
            case "remove" -> pruning.remove(name);
            case "global_unstructured" -> {
                assertThat(args.get("pruning_method").asText()).isEqualTo("L1Unstructured");
                Map<String, INDArray> importance = new LinkedHashMap<>();
                if (step.importanceScores() != null) {
                    step.importanceScores().forEach((k, t) -> importance.put(k, t.toArray()));
                }
                pruning.globalUnstructured(step.targets(), new L1Unstructured(amount(args)), importance);
            }
            default -> fail("unknown op '" + step.op() + "'");
        }
    }

    private static Amount amount(JsonNode args) {
        String type = args.get("amount_type").asText();
        JsonNode amount = args.get("amount");
        return switch (type) {
            case "int" -> Amount.count(amount.asLong());
            case "float" -> Amount.fraction(amount.asDouble());
            default -> throw new IllegalArgumentException("amount_type '" + type + "'");
        };
    }

    private static void checkExpected(Fixture fx, Pruning pruning) {
        fx.expected().forEach((key, tensor) -> {
            assertThat(pruning.has(key)).as("%s exists", key).isTrue();
            assertEqual(key, pruning.get(key), tensor);
        });
        for (String key : fx.expectedAbsent()) {
            assertThat(pruning.has(key)).as("%s must not exist", key).isFalse();
        }
    }

    private static void assertEqual(String key, INDArray actual, Fixture.Tensor expected) {
        assertThat(actual.shape()).as("%s shape", key).isEqualTo(expected.shape());
        float[] a = actual.dup('c').data().asFloat();
        for (int i = 0; i < a.length; i++) {
            if (a[i] != expected.data()[i]) { // == : -0.0 equals 0.0
                fail("%s differs at flat index %d: expected %s, got %s%n expected %s%n actual   %s", key, i,
                        expected.data()[i], a[i], Arrays.toString(expected.data()), Arrays.toString(a));
            }
        }
    }

    private static void checkError(Fixture fx, Throwable thrown) {
        String expected = fx.expectedError();
        int colon = expected.indexOf(": ");
        String pythonClass = expected.substring(0, colon);
        String message = expected.substring(colon + 2);
        for (Fixture.Module m : fx.modules().values()) {
            // PyTorch prints its module repr; we print the module's name.
            if (m.torchRepr() != null && message.contains(m.torchRepr())) {
                String moduleName = fx.modules().entrySet().stream().filter(e -> e.getValue() == m)
                        .findFirst().orElseThrow().getKey();
                message = message.replace(m.torchRepr(), moduleName);
            }
        }
        Class<? extends Throwable> javaClass = switch (pythonClass) {
            case "ValueError", "RuntimeError" -> IllegalArgumentException.class;
            case "IndexError" -> IndexOutOfBoundsException.class;
            default -> throw new IllegalArgumentException("unmapped Python exception " + pythonClass);
        };
        assertThat(thrown).as("the last step must fail").isInstanceOf(javaClass);
        assertThat(thrown.getMessage()).startsWith(message);
    }

    private static void checkProperty(Fixture fx, Pruning pruning, Fixture.Property p) {
        INDArray target = pruning.get(p.target());
        float[] t = target.dup('c').data().asFloat();
        long[] shape = target.shape();
        switch (p.property()) {
            case "num_zeros" -> assertThat(count(t, 0f)).as("zeros of %s", p.target()).isEqualTo((long) p.value());
            case "binary" -> assertThat(count(t, 0f) + count(t, 1f)).as("%s is 0/1", p.target()).isEqualTo(t.length);
            case "num_zero_slices" -> {
                long zeroSlices = slices(t, shape, p.dim()).stream().filter(s -> count(s, 0f) == s.length).count();
                assertThat(zeroSlices).as("all-zero slices of %s along %d", p.target(), p.dim())
                        .isEqualTo((long) p.value());
            }
            case "slices_uniform" -> {
                for (float[] s : slices(t, shape, p.dim())) {
                    assertThat(count(s, 0f) == s.length || count(s, 1f) == s.length)
                            .as("every slice of %s along %d is all 0 or all 1", p.target(), p.dim()).isTrue();
                }
            }
            case "effective_equals_orig_times_mask" -> {
                INDArray expected = pruning.get(p.target() + "_orig").mul(pruning.get(p.target() + "_mask"));
                float[] e = expected.dup('c').data().asFloat();
                for (int i = 0; i < t.length; i++) {
                    assertThat(t[i] == e[i]).as("%s[%d] == orig * mask", p.target(), i).isTrue();
                }
            }
            case "pruned_abs_le_kept_abs" -> {
                float[] ref = pruning.get(p.reference()).dup('c').data().asFloat();
                double maxPruned = Double.NEGATIVE_INFINITY;
                double minKept = Double.POSITIVE_INFINITY;
                for (int i = 0; i < t.length; i++) {
                    if (t[i] == 0f) {
                        maxPruned = Math.max(maxPruned, Math.abs(ref[i]));
                    } else if (t[i] == 1f) {
                        minKept = Math.min(minKept, Math.abs(ref[i]));
                    }
                }
                assertThat(maxPruned).as("largest pruned |%s| <= smallest kept", p.reference())
                        .isLessThanOrEqualTo(minKept);
            }
            case "zeros_superset_of_step" -> {
                float[] before = fx.steps().get(p.step()).expectedAfter().get(p.target()).data();
                for (int i = 0; i < t.length; i++) {
                    if (before[i] == 0f) {
                        assertThat(t[i]).as("%s[%d] was pruned at step %d and stays pruned", p.target(), i, p.step())
                                .isEqualTo(0f);
                    }
                }
            }
            default -> fail("unknown property '" + p.property() + "'");
        }
    }

    private static long count(float[] values, float v) {
        long n = 0;
        for (float x : values) {
            n += x == v ? 1 : 0;
        }
        return n;
    }

    /** The slices of a C-order tensor along {@code dim}. */
    private static List<float[]> slices(float[] t, long[] shape, int dim) {
        int d = dim < 0 ? dim + shape.length : dim;
        int size = (int) shape[d];
        long inner = 1;
        for (int i = d + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        long outer = t.length / (size * inner);
        List<float[]> slices = new ArrayList<>();
        for (int c = 0; c < size; c++) {
            float[] s = new float[(int) (outer * inner)];
            int j = 0;
            for (long o = 0; o < outer; o++) {
                for (long i = 0; i < inner; i++) {
                    s[j++] = t[(int) ((o * size + c) * inner + i)];
                }
            }
            slices.add(s);
        }
        return slices;
    }

    static {
        // Surface I/O problems in fixture discovery as such.
        Thread.setDefaultUncaughtExceptionHandler((th, e) -> {
            if (e instanceof UncheckedIOException u) {
                u.getCause().printStackTrace();
            }
        });
    }
}
