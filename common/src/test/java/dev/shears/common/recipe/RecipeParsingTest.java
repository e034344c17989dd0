package dev.shears.common.recipe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shears.common.data.InputShape;
import dev.shears.common.data.Normalization;
import dev.shears.common.recipe.AccuracyBudget.Policy;
import dev.shears.common.recipe.PruningSpec.Method;
import dev.shears.common.recipe.PruningSpec.Scope;
import dev.shears.common.recipe.Training.Updater;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.params.provider.MethodSource;

class RecipeParsingTest {

    private static final String MINIMAL = "job: lenet5-fmnist-90\nmodel: lenet5\n";

    @Test
    void aMinimalRecipeTakesEveryDefault() {
        Recipe recipe = Recipe.parse(MINIMAL);

        assertThat(recipe).isEqualTo(Recipe.withDefaults("lenet5-fmnist-90", ModelSource.LENET5));
        assertThat(recipe.data()).isEqualTo(DataSpec.named("fashion-mnist"));
        assertThat(recipe.data().validation()).isEqualTo(ValidationSplit.fraction(0.1));
        assertThat(recipe.training()).isEqualTo(new Training(Updater.NESTEROVS, 0.01, OptionalDouble.of(0.9), 0.0,
                64, 42, 3, 0));
        assertThat(recipe.pruning().parameters()).containsExactly("*");
        assertThat(recipe.pruning().method()).isEqualTo(Method.L1_UNSTRUCTURED);
        assertThat(recipe.pruning().scope()).isEqualTo(Scope.GLOBAL);
        assertThat(recipe.schedule()).isEqualTo(ScheduleSpec.polynomial(0.0, 0.9, 10, 3));
        assertThat(recipe.fineTune().iterationsPerStep()).isEqualTo(469);
        assertThat(recipe.accuracyBudget().minAccuracy()).hasValue(0.0);
        assertThat(recipe.accuracyBudget().maxDrop()).isEmpty();
        assertThat(recipe.accuracyBudget().policy()).isEqualTo(Policy.STOP);
        assertThat(recipe.checkpoints().keepLast()).isEqualTo(3);
        assertThat(recipe.checkpoints().every()).as("a mid-step checkpoint every 10 minutes")
                .isEqualTo(Checkpoints.Every.time(java.time.Duration.ofMinutes(10)));
        assertThat(recipe.publish().name()).isEqualTo("lenet5-fmnist-90");
    }

    @ParameterizedTest(name = "every: {0}")
    @ValueSource(strings = {"500", "1", "30s", "10m", "2h", "24h", "off", "OFF"})
    void aMidStepCheckpointIntervalIsReadAsWrittenAndWrittenBackTheSame(String every) {
        Recipe recipe = Recipe.parse("job: j\nmodel: lenet5\ncheckpoints:\n  every: " + every + "\n");

        assertThat(recipe.checkpoints().every().toString()).isEqualTo(every.toLowerCase(java.util.Locale.ROOT));
        assertThat(Recipe.parse(recipe.toYaml())).isEqualTo(recipe);
    }

    @Test
    void everyFieldIsReadAsWritten() {
        Recipe recipe = Recipe.parse("""
                job: full.recipe_1
                model: file:team/lenet.zip
                data:
                  name: mine/fmnist
                  validation: 5000
                  shape: [3, 32, 32]
                  normalization: {mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26]}
                  augmentation: {crop: 4, flip: true}
                training:
                  updater: adam
                  learningRate: 1e-3
                  weightDecay: 0.0005
                  batchSize: 128
                  seed: -7
                  denseEpochs: 0
                  threads: 4
                pruning:
                  parameters: ["conv*.weight", "fc?.weight"]
                  exclude: [fc3.weight]
                  method: random_structured
                  dim: 1
                  scope: local
                schedule:
                  kind: constant
                  finalSparsity: 0.5
                  steps: 4
                fineTune:
                  iterationsPerStep: 0
                accuracyBudget:
                  maxDrop: 0.02
                  policy: extra_fine_tune
                  extraIterations: 100
                  maxRetries: 0
                checkpoints:
                  keepLast: 1000
                publish:
                  name: published-name
                """);

        assertThat(recipe.job()).isEqualTo("full.recipe_1");
        assertThat(recipe.model().kind()).isEqualTo(ModelSource.Kind.FILE);
        assertThat(recipe.model().file()).hasValue(Path.of("team/lenet.zip"));
        assertThat(recipe.data()).isEqualTo(new DataSpec("mine/fmnist", ValidationSplit.count(5000),
                Optional.of(InputShape.image(3, 32, 32)),
                Optional.of(new Normalization(List.of(0.49, 0.48, 0.45), List.of(0.25, 0.24, 0.26))),
                new Augmentation(4, true)));
        assertThat(recipe.training()).isEqualTo(new Training(Updater.ADAM, 1e-3, OptionalDouble.empty(), 0.0005,
                128, -7, 0, 4));
        assertThat(recipe.pruning()).isEqualTo(new PruningSpec(List.of("conv*.weight", "fc?.weight"),
                List.of("fc3.weight"), Method.RANDOM_STRUCTURED, Optional.empty(), OptionalInt.of(1), Optional.empty(),
                Scope.LOCAL));
        assertThat(recipe.schedule()).isEqualTo(ScheduleSpec.constant(0.5, 4));
        assertThat(recipe.fineTune().iterationsPerStep()).isZero();
        assertThat(recipe.accuracyBudget()).isEqualTo(new AccuracyBudget(OptionalDouble.empty(),
                OptionalDouble.of(0.02), Policy.EXTRA_FINE_TUNE, OptionalInt.of(100), 0));
        assertThat(recipe.checkpoints().keepLast()).isEqualTo(1000);
        assertThat(recipe.publish().name()).isEqualTo("published-name");
    }

    @Test
    void aSectionLeftEmptyTakesItsDefaults() {
        Recipe recipe = Recipe.parse(MINIMAL + "training:\nschedule: {}\n");

        assertThat(recipe.training()).isEqualTo(Training.defaults());
        assertThat(recipe.schedule()).isEqualTo(ScheduleSpec.defaults());
    }

    @Test
    void aNullValueMeansTheDefault() {
        assertThat(Recipe.parse(MINIMAL + "accuracyBudget:\n  maxDrop: null\n  minAccuracy: ~\n").accuracyBudget())
                .isEqualTo(AccuracyBudget.defaults());
    }

    @Test
    void lnStructuredDefaultsToTheL2NormAlongDimZero() {
        PruningSpec pruning = Recipe.parse(MINIMAL + "pruning:\n  method: ln_structured\n").pruning();

        assertThat(pruning.norm()).hasValue("2");
        assertThat(pruning.dim()).hasValue(0);
        assertThat(pruning.nm()).isEmpty();
    }

    @Test
    void normIsKeptInCanonicalSpellingWhetherWrittenAsTextOrNumber() {
        assertThat(Recipe.parse(MINIMAL + "pruning:\n  method: ln_structured\n  norm: 1.0\n").pruning().norm())
                .hasValue("1");
        assertThat(Recipe.parse(MINIMAL + "pruning:\n  method: ln_structured\n  norm: \"INF\"\n").pruning().norm())
                .hasValue("inf");
        assertThat(Recipe.parse(MINIMAL + "pruning:\n  method: ln_structured\n  norm: -inf\n").pruning().norm())
                .hasValue("-inf");
        assertThat(Recipe.parse(MINIMAL + "pruning:\n  method: ln_structured\n  norm: fro\n").pruning().norm())
                .hasValue("fro");
        assertThat(Recipe.parse(MINIMAL + "pruning:\n  method: ln_structured\n  norm: 3.5\n").pruning().norm())
                .hasValue("3.5");
    }

    @Test
    void nmWrittenWithoutQuotesIsReadAsAPatternNotASexagesimalNumber() {
        PruningSpec pruning = Recipe.parse(MINIMAL + "pruning:\n  method: n_m\n  nm: 1:8\n").pruning();

        assertThat(pruning.nm()).hasValue(new NmPattern(1, 8));
        assertThat(pruning.nm().orElseThrow().sparsity()).isEqualTo(0.875);
    }

    @Test
    void nmDefaultsToTwoFour() {
        assertThat(Recipe.parse(MINIMAL + "pruning:\n  method: n_m\n").pruning().nm()).hasValue(NmPattern.TWO_FOUR);
    }

    @Test
    void lotteryTicketDefaultsToRateOneFifthAndRewindingToTheInitialisation() {
        ScheduleSpec schedule = Recipe.parse(MINIMAL + "schedule:\n  kind: lottery_ticket\n").schedule();

        assertThat(schedule).isEqualTo(ScheduleSpec.lotteryTicket(0.9, 0.2, 0));
    }

    @Test
    void pointsEndAtTheirLastTarget() {
        ScheduleSpec schedule = Recipe.parse(MINIMAL + "schedule:\n  kind: points\n  points: [0.5, 0.75, 0.9]\n")
                .schedule();

        assertThat(schedule.finalSparsity()).isEqualTo(0.9);
        assertThat(schedule.points()).containsExactly(0.5, 0.75, 0.9);
    }

    @Test
    void extraFineTuneDefaultsTo469ExtraIterations() {
        assertThat(Recipe.parse(MINIMAL + "accuracyBudget:\n  policy: extra_fine_tune\n").accuracyBudget()
                .extraIterations()).hasValue(469);
    }

    @Test
    void textThatYamlWouldReadAsANumberIsKeptAsWritten() {
        Recipe recipe = Recipe.parse("job: 1e5\nmodel: lenet5\npublish:\n  name: 0x1f\n");

        assertThat(recipe.job()).isEqualTo("1e5");
        assertThat(recipe.publish().name()).isEqualTo("0x1f");
    }

    @Test
    void aByteOrderMarkIsIgnored() {
        assertThat(Recipe.parse("\uFEFF" + MINIMAL).job()).isEqualTo("lenet5-fmnist-90");
    }

    @Test
    void parameterGlobsSelectByNameAndExcludeWins() {
        PruningSpec pruning = Recipe.parse(MINIMAL
                + "pruning:\n  parameters: [\"conv*.weight\", \"fc?.weight\"]\n  exclude: [\"fc3.*\"]\n").pruning();

        assertThat(pruning.select(List.of("conv1.weight", "conv1.bias", "conv2.weight", "fc1.weight", "fc12.weight",
                "fc3.weight", "0_W"))).containsExactly("conv1.weight", "conv2.weight", "fc1.weight");
    }

    @Test
    void aStarMatchesAcrossDots() {
        PruningSpec pruning = new PruningSpec(List.of("*.weight"), List.of(), Method.L1_UNSTRUCTURED, Optional.empty(),
                OptionalInt.empty(), Optional.empty(), Scope.GLOBAL);

        assertThat(pruning.selects("features.0.weight")).isTrue();
        assertThat(pruning.selects("features.0.weight_orig")).isFalse();
        assertThat(pruning.selects(".weight")).isTrue();
    }

    @Test
    void budgetAcceptsByFloorOrByDrop() {
        AccuracyBudget floor = new AccuracyBudget(OptionalDouble.of(0.85), OptionalDouble.empty(), Policy.STOP,
                OptionalInt.empty(), 2);
        AccuracyBudget drop = new AccuracyBudget(OptionalDouble.empty(), OptionalDouble.of(0.02), Policy.STOP,
                OptionalInt.empty(), 2);

        assertThat(floor.accepts(0.85, 0.99)).isTrue();
        assertThat(floor.accepts(0.849, 0.86)).isFalse();
        assertThat(drop.accepts(0.88, 0.90)).isTrue();
        assertThat(drop.accepts(0.87, 0.90)).isFalse();
    }

    @Test
    void wildcardsSelectWeightsOfTheChosenKindsAndOnlyExactNamesSelectBatchNormsAndBiases() {
        PruningSpec every = PruningSpec.defaults();
        Optional<PruningSpec.WeightKind> none = Optional.empty();

        assertThat(every.selects("layer1.0.conv1.weight", Optional.of(PruningSpec.WeightKind.CONV))).isTrue();
        assertThat(every.selects("sep.pointwise_weight", Optional.of(PruningSpec.WeightKind.CONV))).isTrue();
        assertThat(every.selects("sep.depthwise_weight", Optional.of(PruningSpec.WeightKind.DEPTHWISE))).isTrue();
        assertThat(every.selects("layer1.0.bn1.weight", none)).isFalse();
        assertThat(every.selects("fc.bias", none)).isFalse();

        PruningSpec named = Recipe.parse(MINIMAL + "pruning:\n  parameters: [\"*.weight\", \"bn1.weight\"]\n"
                + "  kinds: [conv]\n  exclude: [\"conv1.*\"]\n").pruning();
        assertThat(named.selects("bn1.weight", none)).isTrue();
        assertThat(named.selects("bn2.weight", none)).isFalse();
        assertThat(named.selects("fc1.weight", Optional.of(PruningSpec.WeightKind.DENSE))).isFalse();
        assertThat(named.selects("conv2.weight", Optional.of(PruningSpec.WeightKind.CONV))).isTrue();
        assertThat(named.selects("conv1.weight", Optional.of(PruningSpec.WeightKind.CONV))).isFalse();
    }

    @Test
    void aModelIsANameWithItsDefaultSizeOrAMappingWithItsOwn() {
        assertThat(Recipe.parse("job: a\nmodel: resnet\n").model()).isEqualTo(ModelSource.resnet(20, 16));
        assertThat(Recipe.parse("job: a\nmodel:\n  name: resnet\n  depth: 56\n").model())
                .isEqualTo(ModelSource.resnet(56, 16));
        assertThat(Recipe.parse("job: a\nmodel:\n  name: mobilenetv2\n  widthMultiplier: 0.5\n").model())
                .isEqualTo(ModelSource.mobilenetv2(0.5));
        assertThat(Recipe.parse("job: a\nmodel: vgg\n").model()).isEqualTo(ModelSource.vgg(11, 64));
        assertThat(Recipe.parse("job: a\nmodel:\n  name: lenet5\n").model()).isEqualTo(ModelSource.LENET5);
    }

    @Test
    void dependencyGroupsTakeTheirDefaultsAndOverridesTheirTargets() {
        PruningSpec pruning = Recipe.parse(MINIMAL + "pruning:\n  method: ln_structured\n  structured:\n"
                + "    groups: dependency\n  overrides:\n    - parameters: [\"layer3.*\"]\n      sparsity: 0.3\n")
                .pruning();

        assertThat(pruning.structured()).contains(PruningSpec.Structured.DEPENDENCY);
        assertThat(pruning.byDependencyGroups()).isTrue();
        assertThat(pruning.dim()).hasValue(0);
        assertThat(pruning.overrideFor("layer3.1.conv2.weight")).map(PruningSpec.TargetOverride::sparsity)
                .contains(0.3);
        assertThat(pruning.overrideFor("layer2.1.conv2.weight")).isEmpty();
        assertThat(Recipe.parse(MINIMAL + "pruning:\n  method: random_structured\n").pruning().structured())
                .contains(PruningSpec.Structured.PARAMETER);
    }

    static Stream<Recipe> recipes() {
        Recipe base = Recipe.withDefaults("round-trip", ModelSource.LENET5);
        return Stream.of(
                base,
                new Recipe("quoted-2", ModelSource.file(Path.of("models/net-1.zip")), new DataSpec("relative/dir",
                        ValidationSplit.fraction(0.30000000000000004), Optional.of(InputShape.image(1, 7, 9)),
                        Optional.of(Normalization.uniform(1, -0.5, 1e-3)), new Augmentation(64, false)),
                        new Training(Updater.SGD, 0.1, OptionalDouble.empty(), 1e-4, 1, Long.MIN_VALUE, 1000, 1024),
                        new PruningSpec(List.of("conv?.weight", "*"), List.of("fc3.weight"), Method.LN_STRUCTURED,
                                Optional.of("fro"), OptionalInt.of(-1), Optional.empty(), Scope.LOCAL),
                        ScheduleSpec.points(List.of(0.1, 0.2, 0.30000000000000004, 0.9999)),
                        new FineTune(10_000_000),
                        new AccuracyBudget(OptionalDouble.empty(), OptionalDouble.of(0.5), Policy.EXTRA_FINE_TUNE,
                                OptionalInt.of(1), 100),
                        new Checkpoints(1), new Publish("null")),
                new Recipe("1e5", ModelSource.LENET300100, new DataSpec("d", ValidationSplit.count(1), Optional.empty(),
                        Optional.empty(), new Augmentation(0, true)), Training.defaults(),
                        new PruningSpec(List.of("fc*.weight"), List.of(), Method.N_M, Optional.empty(),
                                OptionalInt.empty(), Optional.of(new NmPattern(2, 4)), Scope.GLOBAL),
                        ScheduleSpec.lotteryTicket(0.9, 0.2, 500), FineTune.defaults(), AccuracyBudget.defaults(),
                        Checkpoints.defaults(), new Publish("yes")),
                new Recipe("resnet-groups", ModelSource.resnet(32, 8), DataSpec.named("d"), Training.defaults(),
                        new PruningSpec(List.of("*"), List.of(PruningSpec.WeightKind.CONV), List.of("fc.*"),
                                Method.LN_STRUCTURED, Optional.of("1"), OptionalInt.of(0), Optional.empty(),
                                Scope.GLOBAL,
                                Optional.of(new PruningSpec.Structured(PruningSpec.Structured.Groups.DEPENDENCY,
                                        Optional.of(PruningSpec.Structured.Reduction.SUM), OptionalInt.of(4),
                                        OptionalInt.of(8))),
                                List.of(new PruningSpec.TargetOverride(List.of("layer1.*", "conv1.*"), 0.25))),
                        ScheduleSpec.linear(0, 0.5, 5), FineTune.defaults(), AccuracyBudget.defaults(),
                        Checkpoints.defaults(), new Publish("resnet-groups")),
                new Recipe("mobile", ModelSource.mobilenetv2(0.75), DataSpec.named("d"), Training.defaults(),
                        PruningSpec.defaults(), ScheduleSpec.defaults(), FineTune.defaults(), AccuracyBudget.defaults(),
                        Checkpoints.defaults(), new Publish("mobile")),
                withSchedule(base, ScheduleSpec.linear(0.25, 0.5, 3)),
                withSchedule(base, ScheduleSpec.oneShot(0.0)),
                withSchedule(base, ScheduleSpec.polynomial(0.1, 0.123456789012345, 10_000, 0.5)));
    }

    private static Recipe withSchedule(Recipe r, ScheduleSpec schedule) {
        return new Recipe(r.job(), r.model(), r.data(), r.training(), r.pruning(), schedule, r.fineTune(),
                r.accuracyBudget(), r.checkpoints(), r.publish());
    }

    @ParameterizedTest
    @MethodSource("recipes")
    void toYamlReadsBackEqual(Recipe recipe) {
        assertThat(Recipe.parse(recipe.toYaml())).isEqualTo(recipe);
    }

    @Test
    void toYamlWritesTheSchemaKeysInOrderAndLeavesOutWhatTheMethodDoesNotUse() {
        String yaml = Recipe.withDefaults("lenet5-fmnist-90", ModelSource.LENET5).toYaml();

        assertThat(yaml).containsSubsequence("job:", "model:", "data:", "training:", "pruning:", "schedule:",
                "fineTune:", "accuracyBudget:", "checkpoints:", "publish:");
        assertThat(yaml).doesNotContain("  norm:", "  dim:", "  nm:", "  rate:", "  rewindIteration:", "  maxDrop:",
                "  extraIterations:", "  points:");
        assertThat(yaml).as("the default mid-step interval, left out for workers that do not know the key")
                .doesNotContain("  every:");
    }

    @Test
    void toYamlQuotesTextSoThatNoYamlReaderTakesItForANumber() {
        Recipe recipe = Recipe.parse(MINIMAL + "pruning:\n  method: n_m\n  nm: 2:4\n");

        assertThat(recipe.toYaml()).contains("nm: \"2:4\"").contains("job: \"lenet5-fmnist-90\"");
    }
}
