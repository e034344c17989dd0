package dev.shears.common.recipe;

import com.fasterxml.jackson.core.JsonToken;
import dev.shears.common.data.InputShape;
import dev.shears.common.data.Normalization;
import dev.shears.common.recipe.YamlTree.Invalid;
import dev.shears.common.recipe.YamlTree.Mapping;
import dev.shears.common.recipe.YamlTree.Node;
import dev.shears.common.recipe.YamlTree.Scalar;
import dev.shears.common.recipe.YamlTree.Sequence;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.Function;

/**
 * Turns a parsed YAML tree into a {@link Recipe}, collecting every problem instead of stopping at
 * the first. A field that cannot be read is reported once, here, and passed on as null so that the
 * records' checks skip it; a field that is absent takes its default.
 */
final class RecipeReader {

    static final List<String> TOP_KEYS = List.of("job", "model", "data", Training.SECTION, PruningSpec.SECTION,
            ScheduleSpec.SECTION, FineTune.SECTION, AccuracyBudget.SECTION, Checkpoints.SECTION, Publish.SECTION);
    static final List<String> TRAINING_KEYS = List.of("updater", "learningRate", "momentum", "weightDecay",
            "batchSize", "seed", "denseEpochs", "threads");
    static final List<String> PRUNING_KEYS = List.of("parameters", "kinds", "exclude", "method", "norm", "dim", "nm",
            "scope", "structured", "overrides");
    static final List<String> STRUCTURED_KEYS = List.of("groups", "reduction", "minChannels", "roundTo");
    static final List<String> OVERRIDE_KEYS = List.of("parameters", "sparsity");
    static final List<String> SCHEDULE_KEYS = List.of("kind", "initialSparsity", "finalSparsity", "steps", "power",
            "points", "rate", "rewindIteration");
    static final List<String> FINE_TUNE_KEYS = List.of("iterationsPerStep");
    static final List<String> BUDGET_KEYS = List.of("minAccuracy", "maxDrop", "policy", "extraIterations",
            "maxRetries");
    static final List<String> CHECKPOINT_KEYS = List.of("keepLast", "every");
    static final List<String> PUBLISH_KEYS = List.of("name", "artifact");
    static final List<String> DATA_KEYS = List.of("name", "validation", "shape", "normalization", "augmentation");
    static final List<String> NORMALIZATION_KEYS = List.of("mean", "std");
    static final List<String> AUGMENTATION_KEYS = List.of("crop", "flip");

    private final Problems problems;

    private RecipeReader(Problems problems) {
        this.problems = problems;
    }

    /** The recipe, or null when {@code problems} is not empty afterwards. */
    static Recipe read(Node root, Problems problems) {
        return new RecipeReader(problems).recipe(root);
    }

    private Recipe recipe(Node root) {
        if (root == null || root instanceof Scalar s && s.isNull()) {
            if (problems.isEmpty()) {
                problems.document("", "the recipe is empty: it needs at least job and model"
                        + " (fix: e.g. job: lenet5-fmnist-90 and model: lenet5 on two lines)");
            }
            return null;
        }
        if (!(root instanceof Mapping)) {
            if (!(root instanceof Invalid)) {
                problems.document(YamlTree.show(root), "the recipe is not a mapping of keys: it must be lines of"
                        + " key: value with the keys " + Problems.oneOf(TOP_KEYS));
            }
            return null;
        }
        Section top = new Section("", root, TOP_KEYS);

        String job = top.text("job", null, "a name such as lenet5-fmnist-90");
        if (job == null && !top.has("job") && !top.invalid("job")) {
            problems.missing("job", "every recipe needs a job name (fix: e.g. job: lenet5-fmnist-90)");
        }
        Recipe.checkJob(job, problems);
        ModelSource model = model(top);
        DataSpec data = data(top);

        Training training = training(top.section(Training.SECTION, TRAINING_KEYS));
        PruningSpec pruning = pruning(top.section(PruningSpec.SECTION, PRUNING_KEYS));
        ScheduleSpec schedule = schedule(top.section(ScheduleSpec.SECTION, SCHEDULE_KEYS));
        FineTune fineTune = fineTune(top.section(FineTune.SECTION, FINE_TUNE_KEYS));
        AccuracyBudget budget = budget(top.section(AccuracyBudget.SECTION, BUDGET_KEYS));
        Checkpoints checkpoints = checkpoints(top.section(Checkpoints.SECTION, CHECKPOINT_KEYS));
        Publish publish = publish(top.section(Publish.SECTION, PUBLISH_KEYS), job);
        Recipe.checkFits(model, data, problems);

        if (!problems.isEmpty()) {
            return null;
        }
        return new Recipe(job, model, data, training, pruning, schedule, fineTune, budget, checkpoints, publish);
    }

    private ModelSource model(Section top) {
        if (top.entries.get("model") instanceof Mapping) {
            Section s = top.section("model", ModelSource.KEYS);
            String name = s.text("name", null, "resnet, mobilenetv2, vgg, lenet5, lenet300100 or file:<path>");
            if (name == null) {
                if (!s.has("name") && !s.invalid("name")) {
                    problems.missing("model.name", "a model mapping names its architecture (fix: e.g. name: resnet)");
                }
                return null;
            }
            ModelSource base = ModelSource.parse(name, "model.name", problems);
            ModelSource.Kind kind = base == null ? null : base.kind();
            OptionalInt depth = optionalInt(s, "depth", kind == null ? null : kind.usesDepth(),
                    kind == null || !kind.usesDepth() ? 0 : base.depth().getAsInt(),
                    "a whole number: 6n+2 for resnet, 11, 13, 16 or 19 for vgg");
            OptionalInt width = optionalInt(s, "width", kind == null ? null : kind.usesWidth(),
                    kind == null || !kind.usesWidth() ? 0 : base.width().getAsInt(), "a whole number in [1, 1024]");
            OptionalDouble multiplier = optionalDecimal(s, "widthMultiplier",
                    kind == null ? null : kind.usesWidthMultiplier(), ModelSource.DEFAULT_WIDTH_MULTIPLIER,
                    "a number in (0, 4]");
            ModelSource.check(kind, base == null ? null : base.file(), depth, width, multiplier, problems);
            return problems.isEmpty() ? new ModelSource(kind, base.file(), depth, width, multiplier) : null;
        }
        String text = top.text("model", null, "lenet5, lenet300100, resnet, mobilenetv2, vgg or file:<path>");
        if (text != null) {
            return ModelSource.parse(text, problems);
        }
        if (!top.has("model") && !top.invalid("model")) {
            problems.missing("model", "every recipe names its model (fix: model: lenet5, model: resnet"
                    + " or model: file:net.zip under the worker's model root)");
        }
        return null;
    }

    /** {@code data: <name>}, or a {@code data} section with {@code name} and the other keys. */
    private DataSpec data(Section top) {
        if (!top.has("data")) {
            return top.invalid("data") ? null : DataSpec.defaults();
        }
        if (top.isScalar("data")) {
            String name = top.text("data", null, "a data set name such as fashion-mnist");
            DataSpec.checkName(DataSpec.FIELD, name, "fashion-mnist", problems);
            return problems.isEmpty() ? DataSpec.named(name) : null;
        }
        Section s = top.section(DataSpec.FIELD, DATA_KEYS);
        String name = s.text("name", null, "a data set name such as fashion-mnist");
        if (name == null && !s.has("name") && !s.invalid("name")) {
            problems.missing(s.field("name"), "a data section names its data set (fix: e.g. name: fashion-mnist)");
        }
        ValidationSplit validation = validation(s);
        Optional<InputShape> shape = s.has("shape") ? Optional.ofNullable(shape(s)) : s.invalid("shape") ? null
                : Optional.empty();
        Optional<Normalization> normalization = s.has("normalization")
                ? Optional.ofNullable(normalization(s.section("normalization", NORMALIZATION_KEYS)))
                : s.invalid("normalization") ? null : Optional.empty();
        Augmentation augmentation = augmentation(s.section("augmentation", AUGMENTATION_KEYS));
        DataSpec.check(s.field("name"), name, shape, normalization, augmentation, problems);
        if (!problems.isEmpty()) {
            return null;
        }
        return new DataSpec(name, validation, shape, normalization, augmentation);
    }

    private ValidationSplit validation(Section s) {
        if (!s.has("validation")) {
            return s.invalid("validation") ? null : ValidationSplit.DEFAULT;
        }
        Double value = s.decimal("validation", null, "a fraction in (0, 0.5] or a whole number of examples");
        if (value == null) {
            return null;
        }
        boolean whole = s.isWholeNumber("validation");
        int count = whole ? (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, value)) : 0;
        ValidationSplit.check(whole ? 0 : value, count, problems);
        return problems.isEmpty() ? new ValidationSplit(whole ? 0 : value, count) : null;
    }

    private InputShape shape(Section s) {
        String field = s.field("shape");
        List<Long> dims = s.list("shape", null, this::wholeItem, "[channels, height, width] such as [3, 32, 32]");
        if (dims == null || dims.contains(null)) {
            return null;
        }
        if (dims.size() != 3) {
            problems.add(field, dims, "is not [channels, height, width]: it has " + dims.size()
                    + " numbers (fix: e.g. [1, 28, 28] for grey images, [3, 32, 32] for colour)");
            return null;
        }
        long channels = dims.get(0);
        if (channels != 1 && channels != 3) {
            problems.add(field, dims, "has " + channels + " channels: images are grey (1) or colour (3)"
                    + " (fix: e.g. [3, 32, 32])");
        }
        for (int i = 1; i < 3; i++) {
            if (dims.get(i) < 1 || dims.get(i) > 1024) {
                problems.add(field, dims, "has a side of " + dims.get(i) + ": height and width must be in [1, 1024]"
                        + " (fix: e.g. [3, 32, 32])");
                return null;
            }
        }
        return problems.isEmpty() ? InputShape.image((int) channels, dims.get(1).intValue(), dims.get(2).intValue())
                : null;
    }

    private Normalization normalization(Section s) {
        List<Double> mean = s.list("mean", null, numberItems("a channel's mean"), "a list with one mean per channel");
        List<Double> std = s.list("std", null, numberItems("a channel's std"), "a list with one std per channel");
        for (String key : NORMALIZATION_KEYS) {
            if (!s.has(key) && !s.invalid(key)) {
                problems.missing(s.field(key), "a normalization gives both mean and std, one per channel"
                        + " (fix: e.g. mean: [0.286] and std: [0.353])");
            }
        }
        if (mean == null || std == null || mean.contains(null) || std.contains(null)) {
            return null;
        }
        if (mean.isEmpty() || mean.size() != std.size()) {
            problems.add(s.field("std"), std, "has " + std.size() + " values for " + mean.size() + " means: give"
                    + " one mean and one std per channel (fix: e.g. mean: [0.286] and std: [0.353])");
            return null;
        }
        for (int i = 0; i < std.size(); i++) {
            if (!Double.isFinite(mean.get(i))) {
                problems.add(s.field("mean") + "[" + i + "]", mean.get(i), "is not a finite number");
            }
            if (!(std.get(i) > 0) || !Double.isFinite(std.get(i))) {
                problems.add(s.field("std") + "[" + i + "]", std.get(i), "is out of range: a std must be finite"
                        + " and > 0 (fix: e.g. 0.353)");
            }
        }
        return problems.isEmpty() ? new Normalization(mean, std) : null;
    }

    private Augmentation augmentation(Section s) {
        Integer crop = s.integer("crop", Augmentation.NONE.crop(), "a whole number of pixels in [0, 64]");
        Boolean flip = s.bool("flip", Augmentation.NONE.flip());
        Augmentation.check(crop, problems);
        return problems.isEmpty() && flip != null ? new Augmentation(crop, flip) : null;
    }

    private Training training(Section s) {
        Training d = Training.defaults();
        Training.Updater updater = s.choice("updater", Training.Updater.class, d.updater());
        Double learningRate = s.decimal("learningRate", d.learningRate(), "a number in (0, 10]");
        OptionalDouble momentum = optionalDecimal(s, "momentum", updater == null ? null : updater.usesMomentum(),
                Training.DEFAULT_MOMENTUM, "a number in [0, 1)");
        Double weightDecay = s.decimal("weightDecay", d.weightDecay(), "a number in [0, 1)");
        Integer batchSize = s.integer("batchSize", d.batchSize(), "a whole number in [1, 65536]");
        Long seed = s.whole("seed", d.seed(), "a whole number in [" + Long.MIN_VALUE + ", " + Long.MAX_VALUE + "]");
        Integer denseEpochs = s.integer("denseEpochs", d.denseEpochs(), "a whole number in [0, 1000]");
        Integer threads = s.integer("threads", d.threads(), "a whole number in [0, 1024]; 0 = automatic");
        Training.check(updater, learningRate, momentum, weightDecay, batchSize, denseEpochs, threads, problems);
        if (!problems.isEmpty()) {
            return null;
        }
        return new Training(updater, learningRate, momentum, weightDecay, batchSize, seed, denseEpochs, threads);
    }

    private PruningSpec pruning(Section s) {
        PruningSpec d = PruningSpec.defaults();
        List<String> parameters = s.list("parameters", d.parameters(), this::globText,
                "a list of globs such as [\"conv*.weight\", \"fc*.weight\"]");
        List<PruningSpec.WeightKind> kinds = s.list("kinds", d.kinds(),
                (field, item) -> enumItem(field, item, PruningSpec.WeightKind.class), "a list such as [conv, dense]");
        List<String> exclude = s.list("exclude", d.exclude(), this::globText, "a list of globs such as [\"fc3.*\"]");
        PruningSpec.Method method = s.choice("method", PruningSpec.Method.class, d.method());
        Boolean usesNorm = method == null ? null : method.usesNorm();
        Optional<String> norm = optional(s, "norm", usesNorm, PruningSpec.DEFAULT_NORM,
                key -> s.text(key, null, "\"1\", \"2\", \"inf\", \"-inf\", \"fro\" or a number"));
        OptionalInt dim = optionalInt(s, "dim", method == null ? null : method.usesDim(), PruningSpec.DEFAULT_DIM,
                "a whole number in [-4, 3]");
        Optional<NmPattern> nm = optional(s, "nm", method == null ? null : method.usesNm(), NmPattern.TWO_FOUR,
                key -> {
                    String text = s.text(key, null, "N:M such as \"2:4\"");
                    return text == null ? null : NmPattern.parse(text, problems);
                });
        PruningSpec.Scope scope = s.choice("scope", PruningSpec.Scope.class, d.scope());
        Optional<PruningSpec.Structured> structured;
        if (s.has("structured") || s.invalid("structured")) {
            PruningSpec.Structured given = structured(s.section("structured", STRUCTURED_KEYS));
            structured = given == null ? null : Optional.of(given);
        } else {
            structured = method == null ? null
                    : method.usesDim() ? Optional.of(PruningSpec.Structured.PARAMETER) : Optional.empty();
        }
        List<PruningSpec.TargetOverride> overrides = s.list("overrides", d.overrides(), this::override,
                "a list of mappings such as [{parameters: [\"layer3.*\"], sparsity: 0.3}]");
        PruningSpec.check(parameters, kinds, exclude, method, norm, dim, nm, structured, overrides, problems);
        if (!problems.isEmpty()) {
            return null;
        }
        return new PruningSpec(parameters, kinds, exclude, method, norm, dim, nm, scope, structured, overrides);
    }

    private PruningSpec.Structured structured(Section s) {
        PruningSpec.Structured.Groups groups = s.choice("groups", PruningSpec.Structured.Groups.class,
                PruningSpec.Structured.Groups.PARAMETER);
        Boolean dependency = groups == null ? null : groups == PruningSpec.Structured.Groups.DEPENDENCY;
        Optional<PruningSpec.Structured.Reduction> reduction = optional(s, "reduction", dependency,
                PruningSpec.Structured.Reduction.MEAN,
                key -> s.choice(key, PruningSpec.Structured.Reduction.class, null));
        OptionalInt minChannels = optionalInt(s, "minChannels", dependency, PruningSpec.Structured.DEFAULT_MIN_CHANNELS,
                "a whole number in [0, 65536]");
        OptionalInt roundTo = optionalInt(s, "roundTo", dependency, PruningSpec.Structured.DEFAULT_ROUND_TO,
                "a whole number in [1, 4096]");
        int before = problems.size();
        PruningSpec.Structured.check(groups, reduction, minChannels, roundTo, problems);
        if (problems.size() > before || groups == null || reduction == null || minChannels == null || roundTo == null) {
            return null;
        }
        return new PruningSpec.Structured(groups, reduction, minChannels, roundTo);
    }

    private PruningSpec.TargetOverride override(String field, Node item) {
        if (!(item instanceof Mapping)) {
            if (!(item instanceof Invalid)) {
                problems.add(field, new Problems.Raw(YamlTree.show(item)), "is not a mapping: an override takes"
                        + " parameters and sparsity (fix: e.g. {parameters: [\"layer3.*\"], sparsity: 0.3})");
            }
            return null;
        }
        Section s = new Section(field, item, OVERRIDE_KEYS);
        List<String> parameters = s.list("parameters", null, this::globText, "a list of globs such as [\"layer3.*\"]");
        if (parameters == null && !s.has("parameters") && !s.invalid("parameters")) {
            problems.missing(field + ".parameters",
                    "an override selects parameters (fix: e.g. parameters: [\"layer3.*\"])");
        }
        Double sparsity = s.decimal("sparsity", null, "a number in [0, 1)");
        if (sparsity == null && !s.has("sparsity") && !s.invalid("sparsity")) {
            problems.missing(field + ".sparsity", "an override sets its final target (fix: e.g. sparsity: 0.3)");
        }
        int before = problems.size();
        PruningSpec.TargetOverride.check(field, parameters, sparsity, problems);
        if (problems.size() > before || parameters == null || sparsity == null || parameters.contains(null)) {
            return null;
        }
        return new PruningSpec.TargetOverride(parameters, sparsity);
    }

    private <E extends Enum<E>> E enumItem(String field, Node item, Class<E> type) {
        List<String> names = java.util.Arrays.stream(type.getEnumConstants()).map(Object::toString).toList();
        if (item instanceof Scalar sc && sc.token() != JsonToken.VALUE_NULL) {
            for (E e : type.getEnumConstants()) {
                if (e.toString().equals(sc.text())) {
                    return e;
                }
            }
            String hint = Problems.closest(sc.text(), names).map(c -> "did you mean " + c + "?")
                    .orElse("use one of these");
            problems.add(field, sc.text(), "is not known: must be " + Problems.oneOf(names) + " (fix: " + hint + ")");
            return null;
        }
        if (!(item instanceof Invalid)) {
            problems.add(field, new Problems.Raw(YamlTree.show(item)), "is not " + Problems.oneOf(names));
        }
        return null;
    }

    private ScheduleSpec schedule(Section s) {
        ScheduleSpec d = ScheduleSpec.defaults();
        ScheduleSpec.Kind kind = s.choice("kind", ScheduleSpec.Kind.class, d.kind());
        List<Double> points = s.list("points", List.of(), numberItems("a sparsity in (0, 1)"),
                "a list of sparsities such as [0.5, 0.75, 0.9]");
        Double finalDefault = d.finalSparsity();
        if (kind == ScheduleSpec.Kind.POINTS) {
            finalDefault = points == null || points.isEmpty() || points.contains(null) ? null
                    : points.get(points.size() - 1);
        }
        Double finalSparsity = s.has("finalSparsity") || s.invalid("finalSparsity")
                ? s.decimal("finalSparsity", null, "a number in [0, 1)") : finalDefault;
        Double initialSparsity = s.decimal("initialSparsity", d.initialSparsity(), "a number in [0, finalSparsity]");
        OptionalInt steps = optionalInt(s, "steps", kind == null ? null : kind.usesSteps(), d.steps().getAsInt(),
                "a whole number in [1, 10000]");
        OptionalDouble power = optionalDecimal(s, "power", kind == null ? null : kind.usesPower(),
                d.power().getAsDouble(),
                "a number in (0, 100]");
        Boolean lottery = kind == null ? null : kind.isLotteryTicket();
        OptionalDouble rate = optionalDecimal(s, "rate", lottery, ScheduleSpec.DEFAULT_RATE, "a number in (0, 1)");
        OptionalLong rewind = optionalLong(s, "rewindIteration", lottery, ScheduleSpec.DEFAULT_REWIND_ITERATION,
                "a whole number in [0, 1000000000]");
        ScheduleSpec.check(kind, initialSparsity, finalSparsity, steps, power, points, rate, rewind, problems);
        if (!problems.isEmpty()) {
            return null;
        }
        return new ScheduleSpec(kind, initialSparsity, finalSparsity, steps, power, points, rate, rewind);
    }

    private FineTune fineTune(Section s) {
        Integer iterations = s.integer("iterationsPerStep", FineTune.defaults().iterationsPerStep(),
                "a whole number in [0, 10000000]");
        FineTune.check(iterations, problems);
        return problems.isEmpty() ? new FineTune(iterations) : null;
    }

    private AccuracyBudget budget(Section s) {
        AccuracyBudget d = AccuracyBudget.defaults();
        OptionalDouble minAccuracy = optionalDecimal(s, "minAccuracy", false, 0, "a number in [0, 1]");
        OptionalDouble maxDrop = optionalDecimal(s, "maxDrop", false, 0, "a number in [0, 1]");
        if (minAccuracy != null && maxDrop != null && minAccuracy.isEmpty() && maxDrop.isEmpty()) {
            minAccuracy = d.minAccuracy();
        }
        AccuracyBudget.Policy policy = s.choice("policy", AccuracyBudget.Policy.class, d.policy());
        OptionalInt extra = optionalInt(s, "extraIterations", policy == null ? null : policy.usesExtraIterations(),
                AccuracyBudget.DEFAULT_EXTRA_ITERATIONS, "a whole number in [1, 10000000]");
        Integer maxRetries = s.integer("maxRetries", d.maxRetries(), "a whole number in [0, 100]");
        AccuracyBudget.check(minAccuracy, maxDrop, policy, extra, maxRetries, problems);
        return problems.isEmpty() ? new AccuracyBudget(minAccuracy, maxDrop, policy, extra, maxRetries) : null;
    }

    private Checkpoints checkpoints(Section s) {
        Integer keepLast = s.integer("keepLast", Checkpoints.defaults().keepLast(), "a whole number in [1, 1000]");
        Checkpoints.check(keepLast, problems);
        String every = s.text("every", null, "500 (iterations), 10m, or off");
        Checkpoints.Every interval = every == null ? (s.invalid("every") ? null : Checkpoints.Every.DEFAULT)
                : Checkpoints.Every.parse(s.field("every"), every, s.isWholeNumber("every"), problems);
        return problems.isEmpty() ? new Checkpoints(keepLast, interval) : null;
    }

    private Publish publish(Section s, String job) {
        Publish.Artifact artifact = s.choice("artifact", Publish.Artifact.class, Publish.Artifact.MODEL);
        String name = s.text("name", null, "a name such as lenet5-fmnist-90");
        if (name == null && !s.has("name") && !s.invalid("name")) {
            return job == null || artifact == null || !problems.isEmpty() ? null : new Publish(job, artifact);
        }
        Publish.check(name, problems);
        return problems.isEmpty() && name != null && artifact != null ? new Publish(name, artifact) : null;
    }

    /**
     * A key that only some methods or kinds take: the value when given (the record's check refuses
     * it where it does not apply); when absent, the default if it {@code applies}, else empty. Null
     * when the value was unreadable, or when whether it applies is unknown (the method was).
     */
    private <T> Optional<T> optional(Section s, String key, Boolean applies, T dflt, Function<String, T> read) {
        if (s.has(key)) {
            T v = read.apply(key);
            return v == null ? null : Optional.of(v);
        }
        if (s.invalid(key) || applies == null) {
            return null;
        }
        return applies ? Optional.of(dflt) : Optional.empty();
    }

    private OptionalDouble optionalDecimal(Section s, String key, Boolean applies, double dflt, String expected) {
        Optional<Double> v = optional(s, key, applies, dflt, k -> s.decimal(k, null, expected));
        return v == null ? null : v.map(OptionalDouble::of).orElseGet(OptionalDouble::empty);
    }

    private OptionalInt optionalInt(Section s, String key, Boolean applies, int dflt, String expected) {
        Optional<Integer> v = optional(s, key, applies, dflt, k -> s.integer(k, null, expected));
        return v == null ? null : v.map(OptionalInt::of).orElseGet(OptionalInt::empty);
    }

    private OptionalLong optionalLong(Section s, String key, Boolean applies, long dflt, String expected) {
        Optional<Long> v = optional(s, key, applies, dflt, k -> s.whole(k, null, expected));
        return v == null ? null : v.map(OptionalLong::of).orElseGet(OptionalLong::empty);
    }

    private String globText(String field, Node item) {
        if (item instanceof Scalar sc && sc.token() != JsonToken.VALUE_NULL) {
            return sc.text();
        }
        if (!(item instanceof Invalid)) {
            problems.add(field, new Problems.Raw(YamlTree.show(item)), "is not a glob: each item must be text"
                    + " such as \"conv*.weight\"");
        }
        return null;
    }

    /** Reads items that must be numbers; {@code rule} says what each one is, such as "a sparsity in (0, 1)". */
    private ItemReader<Double> numberItems(String rule) {
        return (field, item) -> {
            if (item instanceof Scalar sc && sc.number() != null) {
                return sc.number().doubleValue();
            }
            if (!(item instanceof Invalid)) {
                problems.add(field, new Problems.Raw(YamlTree.show(item)), "is not a number: each item must be "
                        + rule + quotedNumberHint(item));
            }
            return null;
        };
    }

    private Long wholeItem(String field, Node item) {
        if (item instanceof Scalar sc && sc.token() == JsonToken.VALUE_NUMBER_INT && sc.number() != null
                && sc.number().longValue() >= 0 && sc.number().longValue() < 1_000_000) {
            return sc.number().longValue();
        }
        if (!(item instanceof Invalid)) {
            problems.add(field, new Problems.Raw(YamlTree.show(item)), "is not a whole number in [1, 1024]"
                    + quotedNumberHint(item));
        }
        return null;
    }

    private static String quotedNumberHint(Node node) {
        if (node instanceof Scalar sc && sc.token() == JsonToken.VALUE_STRING) {
            try {
                Double.parseDouble(sc.text().trim());
                return " (fix: remove the quotes)";
            } catch (NumberFormatException e) {
                return "";
            }
        }
        return "";
    }

    /** A mapping whose keys are checked against the schema; typed getters report wrong types. */
    private final class Section {
        private final String path;
        private final Map<String, Node> entries;
        private final List<String> invalid = new ArrayList<>();

        Section(String path, Node node, List<String> keys) {
            this.path = path;
            if (node instanceof Mapping m) {
                this.entries = m.entries();
                for (String key : entries.keySet()) {
                    if (!keys.contains(key)) {
                        unknown(key, keys);
                    }
                }
            } else {
                this.entries = Map.of();
                if (node != null && !(node instanceof Invalid) && !(node instanceof Scalar s && s.isNull())) {
                    problems.add(path, new Problems.Raw(YamlTree.show(node)), "is not a mapping: " + path
                            + " takes the keys " + Problems.oneOf(keys) + " (fix: write them indented on the lines"
                            + " below " + path + ":)");
                }
            }
        }

        private void unknown(String key, List<String> keys) {
            String field = field(key);
            String where = path.isEmpty() ? "a recipe" : path;
            String hint = Problems.closest(key, keys).map(k -> "did you mean " + k + "?")
                    .orElse("remove it, or check the spelling");
            problems.unknown(field, YamlTree.show(entries.get(key)), "is not a known key: " + where + " takes "
                    + Problems.oneOf(keys) + " (fix: " + hint + ")");
        }

        String field(String key) {
            return path.isEmpty() ? key : path + "." + key;
        }

        Section section(String key, List<String> keys) {
            return new Section(field(key), entries.get(key), keys);
        }

        /** Whether {@code key} has a value (a null value counts as absent). */
        boolean has(String key) {
            Node n = entries.get(key);
            return n != null && !(n instanceof Invalid) && !(n instanceof Scalar s && s.isNull());
        }

        /** Whether {@code key} has a scalar value. */
        boolean isScalar(String key) {
            return node(key) instanceof Scalar;
        }

        /** Whether {@code key}'s value is written as a whole number (no fraction, no exponent). */
        boolean isWholeNumber(String key) {
            return node(key) instanceof Scalar sc && sc.token() == JsonToken.VALUE_NUMBER_INT;
        }

        /** A boolean; the default when absent; null after reporting anything else. */
        Boolean bool(String key, Boolean dflt) {
            Node n = node(key);
            if (n == null) {
                return dflt;
            }
            if (n instanceof Scalar sc && (sc.token() == JsonToken.VALUE_TRUE || sc.token() == JsonToken.VALUE_FALSE)) {
                return sc.token() == JsonToken.VALUE_TRUE;
            }
            return wrong(key, "true or false", "true or false", "");
        }

        /** Whether {@code key}'s value was already reported. */
        boolean invalid(String key) {
            return entries.get(key) instanceof Invalid || invalid.contains(key);
        }

        private Node node(String key) {
            return has(key) ? entries.get(key) : null;
        }

        private <T> T wrong(String key, String what, String expected, String fix) {
            invalid.add(key);
            problems.add(field(key), new Problems.Raw(YamlTree.show(entries.get(key))), "is not " + what
                    + ": must be " + expected + (fix.isEmpty() ? "" : " (fix: " + fix + ")"));
            return null;
        }

        /** Any scalar, as written; the default when absent; null after reporting anything else. */
        String text(String key, String dflt, String expected) {
            Node n = node(key);
            if (n == null) {
                return dflt;
            }
            if (n instanceof Scalar sc) {
                return sc.text();
            }
            return wrong(key, "text", expected, "");
        }

        Double decimal(String key, Double dflt, String expected) {
            Node n = node(key);
            if (n == null) {
                return dflt;
            }
            if (n instanceof Scalar sc && sc.number() != null) {
                return sc.number().doubleValue();
            }
            return wrong(key, "a number", expected, quotedNumberHint(n).replace(" (fix: ", "").replace(")", ""));
        }

        Long whole(String key, Long dflt, String expected) {
            Node n = node(key);
            if (n == null) {
                return dflt;
            }
            if (n instanceof Scalar sc && sc.token() == JsonToken.VALUE_NUMBER_INT && sc.number() != null) {
                BigInteger v = sc.number() instanceof BigInteger b ? b : BigInteger.valueOf(sc.number().longValue());
                if (v.bitLength() < 64) {
                    return v.longValue();
                }
                invalid.add(key);
                problems.add(field(key), new Problems.Raw(sc.text()), "is out of range: must be " + expected);
                return null;
            }
            String fix = n instanceof Scalar sc && sc.token() == JsonToken.VALUE_NUMBER_FLOAT
                    ? "write it without a fraction or exponent"
                    : quotedNumberHint(n).replace(" (fix: ", "").replace(")", "");
            return wrong(key, "a whole number", expected, fix);
        }

        Integer integer(String key, Integer dflt, String expected) {
            Long v = whole(key, dflt == null ? null : dflt.longValue(), expected);
            if (v == null) {
                return null;
            }
            if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                invalid.add(key);
                problems.add(field(key), v, "is out of range: must be " + expected);
                return null;
            }
            return v.intValue();
        }

        <E extends Enum<E>> E choice(String key, Class<E> type, E dflt) {
            List<String> names = Arrays.stream(type.getEnumConstants()).map(Object::toString).toList();
            String text = text(key, null, Problems.oneOf(names));
            if (text == null) {
                return has(key) || invalid(key) ? null : dflt;
            }
            for (E e : type.getEnumConstants()) {
                if (e.toString().equals(text)) {
                    return e;
                }
            }
            invalid.add(key);
            String hint = Problems.closest(text, names).map(c -> "did you mean " + c + "?")
                    .orElse("use one of these");
            problems.add(field(key), text, "is not a known " + key + ": must be " + Problems.oneOf(names)
                    + " (fix: " + hint + ")");
            return null;
        }

        /**
         * A list whose items {@code item} reads, with null for each item it reported, so that the
         * checks still see the others; null after reporting a value that is not a list.
         */
        <T> List<T> list(String key, List<T> dflt, ItemReader<T> item, String expected) {
            Node n = node(key);
            if (n == null) {
                return dflt;
            }
            if (!(n instanceof Sequence seq)) {
                return wrong(key, "a list", expected, "");
            }
            List<T> out = new ArrayList<>();
            for (int i = 0; i < seq.items().size(); i++) {
                out.add(item.read(field(key) + "[" + i + "]", seq.items().get(i)));
            }
            return out;
        }
    }

    @FunctionalInterface
    private interface ItemReader<T> {
        /** The item's value, or null after reporting it. */
        T read(String field, Node item);
    }
}
