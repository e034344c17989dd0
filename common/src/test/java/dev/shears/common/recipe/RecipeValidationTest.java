package dev.shears.common.recipe;

import dev.shears.common.data.InputShape;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RecipeValidationTest {

    private static final String MINIMAL = "job: lenet5-fmnist-90\nmodel: lenet5\n";

    /** The problems of a recipe that must be refused. */
    private static List<Problem> problems(String yaml) {
        RecipeException e = catchThrowableOfType(RecipeException.class, () -> Recipe.parse(yaml));
        assertThat(e).as("recipe should be refused:%n%s", yaml).isNotNull();
        return e.problems();
    }

    private static Problem onlyProblem(String yaml) {
        List<Problem> problems = problems(yaml);
        assertThat(problems).hasSize(1);
        return problems.get(0);
    }

    @Test
    void aValueOutOfRangeNamesTheFieldTheValueAndTheRange() {
        Problem p = onlyProblem(MINIMAL + "schedule:\n  finalSparsity: 1.3\n");

        assertThat(p.field()).isEqualTo("schedule.finalSparsity");
        assertThat(p.value()).isEqualTo("1.3");
        assertThat(p.message()).startsWith("schedule.finalSparsity 1.3 is out of range: must be in [0, 1)");
    }

    @Test
    void aWholeNumberOutOfRangeNamesItsBounds() {
        assertThat(onlyProblem(MINIMAL + "training:\n  batchSize: 0\n").message())
                .startsWith("training.batchSize 0 is out of range: must be a whole number in [1, 65536]");
    }

    @Test
    void anOpenLowerBoundIsShownOpen() {
        assertThat(onlyProblem(MINIMAL + "training:\n  learningRate: 0\n").message())
                .startsWith("training.learningRate 0 is out of range: must be in (0, 10]");
    }

    @Test
    void notANumberIsOutOfRange() {
        assertThat(onlyProblem(MINIMAL + "training:\n  learningRate: .nan\n").message())
                .startsWith("training.learningRate .nan is out of range: must be in (0, 10]");
    }

    @Test
    void anInitialSparsityAboveTheFinalIsRefused() {
        assertThat(onlyProblem(MINIMAL + "schedule:\n  initialSparsity: 0.95\n  finalSparsity: 0.9\n").message())
                .startsWith("schedule.initialSparsity 0.95 is out of range: must be in [0, finalSparsity 0.9]");
    }

    @Test
    void textWhereANumberBelongsIsAWrongType() {
        Problem p = onlyProblem(MINIMAL + "training:\n  batchSize: \"abc\"\n");

        assertThat(p.field()).isEqualTo("training.batchSize");
        assertThat(p.value()).isEqualTo("\"abc\"");
        assertThat(p.message()).isEqualTo("training.batchSize \"abc\" is not a whole number:"
                + " must be a whole number in [1, 65536]");
    }

    @Test
    void aQuotedNumberIsAWrongTypeWithAHintToUnquote() {
        assertThat(onlyProblem(MINIMAL + "training:\n  learningRate: \"0.1\"\n").message())
                .isEqualTo("training.learningRate \"0.1\" is not a number: must be a number in (0, 10]"
                        + " (fix: remove the quotes)");
    }

    @Test
    void aFractionWhereAWholeNumberBelongsIsAWrongType() {
        assertThat(onlyProblem(MINIMAL + "fineTune:\n  iterationsPerStep: 46.9\n").message())
                .startsWith("fineTune.iterationsPerStep 46.9 is not a whole number");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "0     | checkpoints.every 0 is out of range: must be a whole number of iterations in [1, 1000000000], a time",
            "-5    | checkpoints.every -5 is out of range",
            "10 m  | checkpoints.every \"10 m\" is not a whole number of iterations in [1, 1000000000], a time such as"
                    + " 30s, 10m or 2h (at most 24h), or off (fix: e.g. 10m, or 500 for every 500 iterations)",
            "1.5   | checkpoints.every \"1.5\" is not a whole number of iterations",
            "25h   | checkpoints.every \"25h\" is out of range: a time must be in [1s, 24h] (fix: e.g. 10m, or off)",
            "0s    | checkpoints.every \"0s\" is out of range: a time must be in [1s, 24h]",
            "never | checkpoints.every \"never\" is not a whole number of iterations"})
    void aMidStepCheckpointIntervalIsIterationsATimeOrOffAndAnythingElseIsRefusedNamingTheField(String every,
            String message) {
        Problem p = onlyProblem(MINIMAL + "checkpoints:\n  every: " + every + "\n");
        assertThat(p.field()).isEqualTo("checkpoints.every");
        assertThat(p.message()).startsWith(message);
    }

    @Test
    void aListWhereAValueBelongsIsAWrongType() {
        assertThat(onlyProblem(MINIMAL + "checkpoints:\n  keepLast: [3]\n").message())
                .startsWith("checkpoints.keepLast [...] is not a whole number");
    }

    @Test
    void aSingleGlobWhereAListBelongsIsAWrongType() {
        assertThat(onlyProblem(MINIMAL + "pruning:\n  parameters: \"*.weight\"\n").message())
                .startsWith("pruning.parameters \"*.weight\" is not a list");
    }

    @Test
    void aSectionThatIsNotAMappingIsAWrongType() {
        assertThat(onlyProblem(MINIMAL + "training: fast\n").message())
                .startsWith("training \"fast\" is not a mapping: training takes the keys updater, learningRate,");
    }

    @Test
    void anUnknownKeyIsNamedWithTheValidKeysAndTheClosest() {
        Problem p = onlyProblem(MINIMAL + "training:\n  learningrate: 0.1\n");

        assertThat(p.field()).isEqualTo("training.learningrate");
        assertThat(p.message()).isEqualTo("training.learningrate is not a known key: training takes updater,"
                + " learningRate, momentum, weightDecay, batchSize, seed, denseEpochs or threads"
                + " (fix: did you mean learningRate?)");
    }

    @Test
    void anUnknownTopLevelKeySuggestsTheClosest() {
        assertThat(onlyProblem(MINIMAL + "schedul:\n  steps: 3\n").message())
                .endsWith("(fix: did you mean schedule?)");
    }

    @Test
    void anUnknownKeyFarFromAnyKnownOneGetsNoGuess() {
        assertThat(onlyProblem(MINIMAL + "colour: blue\n").message())
                .contains("a recipe takes job, model, data, training, pruning, schedule, fineTune, accuracyBudget,"
                        + " checkpoints or publish")
                .endsWith("(fix: remove it, or check the spelling)");
    }

    @Test
    void aMisspelledChoiceListsTheChoicesAndSuggestsTheClosest() {
        assertThat(onlyProblem(MINIMAL + "pruning:\n  method: l1_unstructred\n").message())
                .isEqualTo("pruning.method \"l1_unstructred\" is not a known method: must be l1_unstructured,"
                        + " random_unstructured, ln_structured, random_structured or n_m"
                        + " (fix: did you mean l1_unstructured?)");
    }

    @Test
    void aMissingJobIsRequired() {
        Problem p = onlyProblem("model: lenet5\n");

        assertThat(p.field()).isEqualTo("job");
        assertThat(p.message()).startsWith("job is missing");
    }

    @Test
    void aMissingModelIsRequired() {
        assertThat(onlyProblem("job: a\n").message()).startsWith("model is missing");
    }

    @Test
    void anUnknownModelSuggestsTheClosest() {
        assertThat(onlyProblem("job: a\nmodel: lenet\n").message())
                .isEqualTo("model \"lenet\" is not a known model: must be lenet5, lenet300100, resnet, mobilenetv2, vgg"
                        + " or file:<path to a DL4J ModelSerializer zip under the worker's model root> (fix: did you mean lenet5?)");
    }

    @Test
    void aFileModelNeedsAPath() {
        assertThat(onlyProblem("job: a\nmodel: \"file:\"\n").message()).startsWith("model \"file:\" has no path");
    }

    @ParameterizedTest
    @ValueSource(strings = {"../etc", "a/b", "Lenet5", "-leading-dash", ".hidden", "a b", "\\x00nul", "a\\tb",
            "", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
    void aJobNameOutsideTheSafeCharsetIsRefused(String name) {
        Problem p = onlyProblem("job: \"" + name + "\"\nmodel: lenet5\n");

        assertThat(p.field()).isEqualTo("job");
        assertThat(p.message()).contains("is not a valid name: must match [a-z0-9][a-z0-9._-]{0,63}");
    }

    @Test
    void controlCharactersInANameAreShownEscaped() {
        assertThat(onlyProblem("job: \"a\\x00b\"\nmodel: lenet5\n").value()).isEqualTo("\"a\\u0000b\"");
    }

    @Test
    void aPublishedNameOutsideTheSafeCharsetIsRefused() {
        assertThat(onlyProblem(MINIMAL + "publish:\n  name: ../../etc/passwd\n").field()).isEqualTo("publish.name");
    }

    @Test
    void aNormWithAnUnstructuredMethodIsRefused() {
        Problem p = onlyProblem(MINIMAL + "pruning:\n  method: l1_unstructured\n  norm: \"2\"\n");

        assertThat(p.field()).isEqualTo("pruning.norm");
        assertThat(p.message()).isEqualTo("pruning.norm \"2\" is not used by method l1_unstructured: it is for"
                + " ln_structured only (fix: remove it, or set method to ln_structured)");
    }

    @Test
    void aDimWithAnUnstructuredMethodIsRefused() {
        assertThat(onlyProblem(MINIMAL + "pruning:\n  method: random_unstructured\n  dim: 0\n").message())
                .startsWith("pruning.dim 0 is not used by method random_unstructured");
    }

    @Test
    void anNmPatternWithAnotherMethodIsRefused() {
        assertThat(onlyProblem(MINIMAL + "pruning:\n  method: ln_structured\n  nm: \"2:4\"\n").message())
                .startsWith("pruning.nm \"2:4\" is not used by method ln_structured");
    }

    @Test
    void aMomentumWithAnUpdaterWithoutMomentumIsRefused() {
        assertThat(onlyProblem(MINIMAL + "training:\n  updater: sgd\n  momentum: 0.9\n").message())
                .startsWith("training.momentum 0.9 is not used by updater sgd");
    }

    @Test
    void aPowerWithALinearScheduleIsRefused() {
        assertThat(onlyProblem(MINIMAL + "schedule:\n  kind: linear\n  power: 3\n").message())
                .startsWith("schedule.power 3 is not used by kind linear: it is for polynomial only");
    }

    @Test
    void stepsWithAOneShotScheduleAreRefused() {
        assertThat(onlyProblem(MINIMAL + "schedule:\n  kind: one_shot\n  steps: 1\n").message())
                .isEqualTo(
                        "schedule.steps 1 is not used by kind one_shot: it is for polynomial, linear and constant only;"
                                + " one_shot is always one step (fix: remove it, or set kind to polynomial, linear or constant)");
    }

    @Test
    void lotteryFieldsWithAnotherKindAreRefused() {
        assertThat(problems(MINIMAL + "schedule:\n  rate: 0.2\n  rewindIteration: 5\n"))
                .extracting(Problem::field).containsExactly("schedule.rate", "schedule.rewindIteration");
    }

    @Test
    void anInitialSparsityWithAKindThatStartsFromNothingIsRefused() {
        assertThat(onlyProblem(MINIMAL + "schedule:\n  kind: constant\n  initialSparsity: 0.3\n").message())
                .startsWith("schedule.initialSparsity 0.3 is not used by kind constant");
    }

    @Test
    void extraIterationsWithAnotherPolicyAreRefused() {
        assertThat(onlyProblem(MINIMAL + "accuracyBudget:\n  policy: rollback\n  extraIterations: 100\n").message())
                .startsWith("accuracyBudget.extraIterations 100 is not used by policy rollback");
    }

    @ParameterizedTest
    @ValueSource(strings = {"2-4", "2:", "a:b", "2:4:8", "-1:4"})
    void anNmThatIsNotNColonMIsRefused(String nm) {
        Problem p = onlyProblem(MINIMAL + "pruning:\n  method: n_m\n  nm: \"" + nm + "\"\n");

        assertThat(p.field()).isEqualTo("pruning.nm");
        assertThat(p.message()).contains("is not of the form N:M: must be N:M with 0 < N < M <= 1024");
    }

    @ParameterizedTest
    @ValueSource(strings = {"4:2", "0:4", "4:4", "1:2048"})
    void anNmOutOfRangeIsRefused(String nm) {
        assertThat(onlyProblem(MINIMAL + "pruning:\n  method: n_m\n  nm: \"" + nm + "\"\n").message())
                .isEqualTo(
                        "pruning.nm \"" + nm + "\" is out of range: must be N:M with 0 < N < M <= 1024, such as 2:4");
    }

    @Test
    void anUnknownNormIsRefused() {
        assertThat(onlyProblem(MINIMAL + "pruning:\n  method: ln_structured\n  norm: nuc\n").message())
                .startsWith("pruning.norm \"nuc\" is not a norm");
    }

    @Test
    void aGlobWithCharactersNoParameterNameHasIsRefused() {
        assertThat(onlyProblem(MINIMAL + "pruning:\n  parameters: [\"conv1.weight\", \"fc[12].weight\"]\n").field())
                .isEqualTo("pruning.parameters[1]");
    }

    @Test
    void anEmptyParameterListIsRefused() {
        assertThat(onlyProblem(MINIMAL + "pruning:\n  parameters: []\n").message())
                .startsWith("pruning.parameters [] selects nothing");
    }

    @Test
    void pointsThatDoNotIncreaseAreRefused() {
        assertThat(onlyProblem(MINIMAL + "schedule:\n  kind: points\n  points: [0.5, 0.5]\n").message())
                .startsWith("schedule.points[1] 0.5 is not above the point before it, 0.5");
    }

    @Test
    void pointsOutsideTheOpenUnitIntervalAreRefused() {
        assertThat(problems(MINIMAL + "schedule:\n  kind: points\n  points: [0, 0.5, 1]\n"))
                .extracting(Problem::field).containsExactly("schedule.points[0]", "schedule.points[2]");
    }

    @Test
    void aPointsScheduleWithoutPointsIsRefused() {
        assertThat(onlyProblem(MINIMAL + "schedule:\n  kind: points\n").message())
                .startsWith("schedule.points is missing");
    }

    @Test
    void aFinalSparsityContradictingTheLastPointIsRefused() {
        assertThat(onlyProblem(MINIMAL + "schedule:\n  kind: points\n  points: [0.5]\n  finalSparsity: 0.6\n")
                .message()).startsWith("schedule.finalSparsity 0.6 does not match the last of schedule.points, 0.5");
    }

    @Test
    void aLotteryRateThatNeedsTooManyRoundsIsRefused() {
        assertThat(onlyProblem(MINIMAL + "schedule:\n  kind: lottery_ticket\n  rate: 1e-6\n").message())
                .startsWith("schedule.rate 1.0E-6 needs about").contains("more than 10000");
    }

    @Test
    void bothMinAccuracyAndMaxDropAreRefused() {
        Problem p = onlyProblem(MINIMAL + "accuracyBudget:\n  minAccuracy: 0.8\n  maxDrop: 0.02\n");

        assertThat(p.field()).isEqualTo("accuracyBudget.maxDrop");
        assertThat(p.message()).startsWith("accuracyBudget.maxDrop 0.02 cannot be combined with"
                + " accuracyBudget.minAccuracy 0.8");
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        RecipeException e = catchThrowableOfType(RecipeException.class, () -> Recipe.parse("""
                job: Bad Name
                model: lenet5
                training:
                  batchSize: "abc"
                  lr: 0.1
                pruning:
                  norm: "2"
                schedule:
                  finalSparsity: 1.3
                accuracyBudget:
                  minAccuracy: 2
                """));

        assertThat(e.problems()).extracting(Problem::field).containsExactlyInAnyOrder("job", "training.batchSize",
                "training.lr", "pruning.norm", "schedule.finalSparsity", "accuracyBudget.minAccuracy");
        assertThat(e.getMessage()).startsWith("recipe has 6 problems:\n  - ");
        assertThat(e).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aRecipeOverOneMebibyteIsRefusedBeforeParsing() {
        String yaml = MINIMAL + "#" + "x".repeat(Recipe.MAX_BYTES) + "\n";

        Problem p = onlyProblem(yaml);

        assertThat(p.field()).isEqualTo("(document)");
        assertThat(p.message()).startsWith("the recipe is too large: " + (MINIMAL.length() + Recipe.MAX_BYTES + 2)
                + " bytes (1.0 MiB), at most 1048576 bytes (1 MiB) are read");
    }

    @Test
    void sizeIsCountedInUtf8Bytes() {
        String yaml = MINIMAL + "#" + "é".repeat(Recipe.MAX_BYTES / 2) + "\n"; // fewer chars than the limit

        assertThat(onlyProblem(yaml).message()).startsWith("the recipe is too large");
    }

    @Test
    void aRecipeJustUnderTheLimitIsRead() {
        String head = MINIMAL + "#";
        String yaml = head + "x".repeat(Recipe.MAX_BYTES - head.length() - 1) + "\n";

        assertThat(Recipe.parse(yaml).job()).isEqualTo("lenet5-fmnist-90");
    }

    @Test
    void aFileOverOneMebibyteIsRefusedWithoutReadingItAll(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("huge.yaml");
        Files.write(file, new byte[3 * Recipe.MAX_BYTES]);

        RecipeException e = catchThrowableOfType(RecipeException.class, () -> Recipe.load(file));

        assertThat(e.getMessage()).startsWith("recipe " + file + " has a problem: the recipe is too large: "
                + 3 * Recipe.MAX_BYTES + " bytes");
    }

    @Test
    void aFileThatIsNotUtf8IsRefused(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("latin1.yaml");
        Files.write(file, "job: caf\u00e9\nmodel: lenet5\n".getBytes(StandardCharsets.ISO_8859_1));

        assertThatThrownBy(() -> Recipe.load(file)).isInstanceOf(RecipeException.class)
                .hasMessageContaining("the recipe is not UTF-8 text");
    }

    @Test
    void problemsInAFileNameTheFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("r.yaml");
        Files.writeString(file, MINIMAL + "checkpoints:\n  keepLast: 0\n");

        assertThatThrownBy(() -> Recipe.load(file)).isInstanceOf(RecipeException.class)
                .hasMessageStartingWith("recipe " + file + " has a problem: checkpoints.keepLast 0 is out of range");
    }

    @Test
    void aMissingFileIsAnIoErrorNotARecipeProblem(@TempDir Path dir) {
        assertThatThrownBy(() -> Recipe.load(dir.resolve("absent.yaml"))).isInstanceOf(IOException.class);
    }

    @Test
    void invalidYamlIsReportedWithItsLine() {
        Problem p = onlyProblem("job: a\n  model: lenet5\n");

        assertThat(p.field()).isEqualTo("(document)");
        assertThat(p.message()).startsWith("the recipe is not valid YAML at line 2, column 8: mapping values are not"
                + " allowed here");
    }

    @Test
    void aliasesAreRefused() {
        assertThat(problems(MINIMAL + "training:\n  batchSize: &b 64\n  denseEpochs: *b\n"))
                .extracting(Problem::message)
                .containsExactly("training.denseEpochs *b is a YAML alias: recipes do not use anchors and aliases"
                        + " (fix: write the value out)");
    }

    @Test
    void aBillionLaughsDocumentIsRefusedWithoutExpanding() {
        StringBuilder yaml = new StringBuilder(MINIMAL + "pruning:\n  parameters: &a0 [\"x\"]\n");
        for (int i = 1; i < 10; i++) {
            yaml.append("  exclude").append(i).append(": &a").append(i).append(" [")
                    .append(String.join(", ", java.util.Collections.nCopies(10, "*a" + (i - 1)))).append("]\n");
        }

        assertThat(problems(yaml.toString())).extracting(Problem::message)
                .anyMatch(m -> m.contains("is a YAML alias"));
    }

    @Test
    void explicitTagsAreRefused() {
        assertThat(onlyProblem("job: a\nmodel: !!python/object:os.system lenet5\n").message())
                .startsWith("model !!python/object:os.system has an explicit YAML tag");
    }

    @Test
    void aRepeatedKeyIsRefused() {
        assertThat(onlyProblem(MINIMAL + "job: other\n").message())
                .startsWith("job \"other\" repeats a key given before");
    }

    @Test
    void aSecondDocumentIsRefused() {
        assertThat(onlyProblem(MINIMAL + "---\njob: b\n").message())
                .startsWith("the recipe holds more than one YAML document");
    }

    @Test
    void deepNestingIsRefused() {
        String deep = "[".repeat(40) + "]".repeat(40);

        assertThat(problems(MINIMAL + "data: " + deep + "\n")).extracting(Problem::message)
                .anyMatch(m -> m.contains("nested") || m.contains("nesting"));
    }

    @Test
    void anEmptyRecipeIsRefused() {
        assertThat(onlyProblem("# nothing\n").message()).startsWith("the recipe is empty");
    }

    @Test
    void aRecipeThatIsAListIsRefused() {
        assertThat(onlyProblem("- job: a\n").message()).startsWith("the recipe is not a mapping of keys");
    }

    @Test
    void theRecordsCheckWhatTheyAreGivenToo() {
        assertThatThrownBy(() -> new Training(Training.Updater.SGD, 0.01, OptionalDouble.of(0.9), 0, 0, 1, 1, 0))
                .isInstanceOf(RecipeException.class)
                .hasMessageContaining("training.momentum 0.9 is not used by updater sgd")
                .hasMessageContaining("training.batchSize 0 is out of range");
        assertThatThrownBy(() -> new PruningSpec(List.of("*.weight"), List.of(), PruningSpec.Method.LN_STRUCTURED,
                Optional.empty(), OptionalInt.of(0), Optional.empty(), PruningSpec.Scope.LOCAL))
                .isInstanceOf(RecipeException.class)
                .hasMessageContaining(
                        "pruning.norm is missing: method ln_structured needs a norm (fix: e.g. norm: \"2\")");
        assertThatThrownBy(() -> ScheduleSpec.polynomial(0, 1.0, 10, 3))
                .isInstanceOf(RecipeException.class).hasMessageContaining("schedule.finalSparsity 1 is out of range");
        assertThatThrownBy(() -> new AccuracyBudget(OptionalDouble.empty(), OptionalDouble.empty(),
                AccuracyBudget.Policy.STOP, OptionalInt.empty(), 2))
                .isInstanceOf(RecipeException.class).hasMessageContaining("accuracyBudget.minAccuracy is missing");
        assertThatThrownBy(() -> new Publish("Bad")).isInstanceOf(RecipeException.class);
        assertThatThrownBy(() -> new NmPattern(4, 2)).isInstanceOf(RecipeException.class);
    }

    // ---- models and what real networks need of the pruning section ----------------------------------------

    @Test
    void aResNetDepthThatIsNot6nPlus2NamesTheField() {
        Problem p = onlyProblem("job: a\nmodel:\n  name: resnet\n  depth: 21\n");

        assertThat(p.field()).isEqualTo("model.depth");
        assertThat(p.message()).isEqualTo("model.depth 21 is not a ResNet depth: must be 6n+2 in [8, 1202], three"
                + " stages of n basic blocks (fix: e.g. 20, 32, 44, 56 or 110)");
    }

    @Test
    void aSizeForAnArchitectureThatHasNoneIsRefused() {
        assertThat(onlyProblem("job: a\nmodel:\n  name: resnet\n  widthMultiplier: 0.5\n").message())
                .isEqualTo(
                        "model.widthMultiplier 0.5 is not used by model resnet: it is for mobilenetv2 only (fix: remove it,"
                                + " or set model to mobilenetv2)");
        assertThat(onlyProblem("job: a\nmodel:\n  name: mobilenetv2\n  widthMultiplier: 0\n").field())
                .isEqualTo("model.widthMultiplier");
        assertThat(onlyProblem("job: a\nmodel:\n  name: vgg\n  depth: 12\n").message())
                .startsWith("model.depth 12 is not a VGG configuration: must be 11, 13, 16 or 19");
    }

    @Test
    void aModelMappingNeedsAKnownName() {
        assertThat(onlyProblem("job: a\nmodel:\n  depth: 20\n").message()).startsWith("model.name is missing");
        assertThat(onlyProblem("job: a\nmodel:\n  name: resnet18\n").message())
                .startsWith("model.name \"resnet18\" is not a known model").endsWith("(fix: did you mean resnet?)");
        assertThat(onlyProblem("job: a\nmodel:\n  name: resnet\n  widht: 16\n").message())
                .contains("model.widht is not a known key").contains("did you mean width?");
    }

    @Test
    void aModelThatCannotReadTheDatasShapeIsRefusedNamingTheModelAndTheShape() {
        RecipeException e = catchThrowableOfType(RecipeException.class,
                () -> ModelSource.LENET5.checkFits(InputShape.image(1, 8, 8)));

        assertThat(e.problems()).singleElement().satisfies(p -> {
            assertThat(p.field()).isEqualTo("model");
            assertThat(p.message()).isEqualTo("model lenet5 needs examples of at least 12x12 pixels: its two 5x5"
                    + " convolutions and 2x2 poolings leave nothing of the data's 1x8x8 (fix: use resnet, mobilenetv2"
                    + " or vgg, which take any size, or data of at least 12x12)");
        });
        ModelSource.resnet(20, 16).checkFits(InputShape.image(1, 8, 8));
        ModelSource.LENET5.checkFits(InputShape.FASHION_MNIST);
    }

    @Test
    void aConvolutionalModelRefusesFeatureVectors() {
        assertThatThrownBy(() -> ModelSource.resnet(20, 16).checkFits(InputShape.features(54)))
                .isInstanceOf(RecipeException.class).hasMessageContaining("reads images, and the data are 54 features");
        ModelSource.LENET300100.checkFits(InputShape.features(54));
    }

    @Test
    void anInputShapeOutOfRangeIsRefused() {
        assertThatThrownBy(() -> InputShape.image(0, 28, 28)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("channels 0 is out of range");
    }

    @Test
    void anUnknownWeightKindSuggestsTheClosest() {
        Problem p = onlyProblem(MINIMAL + "pruning:\n  kinds: [conv, dense, depthwsie]\n");

        assertThat(p.field()).isEqualTo("pruning.kinds[2]");
        assertThat(p.message()).isEqualTo("pruning.kinds[2] \"depthwsie\" is not known: must be conv,"
                + " depthwise or dense (fix: did you mean depthwise?)");
        assertThat(onlyProblem(MINIMAL + "pruning:\n  kinds: []\n").message())
                .startsWith("pruning.kinds [] selects no kind of weight");
    }

    @Test
    void aStructuredBlockWithAnUnstructuredMethodIsRefused() {
        assertThat(onlyProblem(MINIMAL + "pruning:\n  structured:\n    groups: dependency\n").message())
                .isEqualTo("pruning.structured dependency is not used by method l1_unstructured: it is for"
                        + " ln_structured and random_structured only (fix: remove it, or set method to ln_structured or"
                        + " random_structured)");
    }

    @Test
    void dependencyGroupSettingsWithPerParameterChannelsAreRefused() {
        Problem p = onlyProblem(MINIMAL + "pruning:\n  method: ln_structured\n  structured:\n    minChannels: 4\n");

        assertThat(p.field()).isEqualTo("pruning.structured.minChannels");
        assertThat(p.message()).isEqualTo("pruning.structured.minChannels 4 is not used by structured.groups parameter:"
                + " it is for dependency only (fix: remove it, or set structured.groups to dependency)");
    }

    @Test
    void dependencyGroupsPruneOutputChannelsSoAnotherDimIsRefused() {
        Problem p = onlyProblem(MINIMAL + "pruning:\n  method: ln_structured\n  dim: 1\n"
                + "  structured:\n    groups: dependency\n");

        assertThat(p.field()).isEqualTo("pruning.dim");
        assertThat(p.message()).isEqualTo("pruning.dim 1 does not apply to structured.groups dependency, which prunes"
                + " output channels (fix: remove dim, or set it to 0)");
    }

    @Test
    void dependencyGroupLimitsOutOfRangeAreRefused() {
        List<Problem> problems = problems(MINIMAL + "pruning:\n  method: ln_structured\n  structured:\n"
                + "    groups: dependency\n    minChannels: -1\n    roundTo: 0\n    reduction: max\n");

        assertThat(problems).extracting(Problem::field).containsExactly("pruning.structured.reduction",
                "pruning.structured.minChannels", "pruning.structured.roundTo");
    }

    @Test
    void anOverrideNeedsGlobsAndATargetInRange() {
        List<Problem> problems = problems(MINIMAL + "pruning:\n  overrides:\n"
                + "    - parameters: [\"layer3.*\"]\n      sparsity: 1.2\n    - sparsity: 0.3\n    - \"layer1.*\"\n");

        assertThat(problems).extracting(Problem::field).containsExactly("pruning.overrides[0].sparsity",
                "pruning.overrides[1].parameters", "pruning.overrides[2]");
        assertThat(problems.get(0).message())
                .startsWith("pruning.overrides[0].sparsity 1.2 is out of range: must be in [0, 1)");
    }

    @Test
    void overridesWithNmAreRefused() {
        assertThat(onlyProblem(MINIMAL + "pruning:\n  method: n_m\n  overrides:\n"
                + "    - parameters: [\"fc1.*\"]\n      sparsity: 0.3\n").message())
                .isEqualTo("pruning.overrides with 1 entry is not used by method n_m: it applies one pattern at the"
                        + " first step, there is no schedule to override (fix: remove overrides, or change method)");
    }
}
