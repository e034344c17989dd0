package dev.shears.common.recipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.shears.common.data.InputShape;
import dev.shears.common.data.Normalization;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The {@code data} key and {@code model: file:}: names under the worker's roots, never paths of its disk. */
class DataFieldTest {

    private static final String MINIMAL = "job: a\nmodel: lenet5\n";
    /** A model that reads images of any size. */
    private static final String ANY_SIZE = "job: a\nmodel: resnet\n";

    private static List<Problem> problems(String yaml) {
        return catchThrowableOfType(RecipeException.class, () -> Recipe.parse(yaml)).problems();
    }

    @Test
    void aNameAloneTakesTheDefaultsOfEveryOtherKey() {
        DataSpec data = Recipe.parse(MINIMAL + "data: mine/cifar-10\n").data();

        assertThat(data).isEqualTo(DataSpec.named("mine/cifar-10"));
        assertThat(data.validation()).isEqualTo(ValidationSplit.DEFAULT);
        assertThat(data.augmentation()).isEqualTo(Augmentation.NONE);
        assertThat(data.shape()).isEmpty();
        assertThat(data.normalization()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/etc", "/usr/share/datasets/fashion-mnist", "../etc", "a/../../etc", "a/..", "~root",
            "./a", "a//b", "a/", "C:/data", "\\\\server\\share", "a b", "ünïcode"})
    void anUnsafeNameIsRefusedWithTheFieldNamed(String name) {
        List<Problem> short_ = problems(MINIMAL + "data: \"" + name.replace("\\", "\\\\") + "\"\n");
        List<Problem> long_ = problems(MINIMAL + "data:\n  name: \"" + name.replace("\\", "\\\\") + "\"\n");

        assertThat(short_).singleElement().satisfies(p -> {
            assertThat(p.field()).isEqualTo("data");
            assertThat(p.message()).contains("must be a path under the worker's data root").contains("fix: e.g.");
        });
        assertThat(long_).singleElement().extracting(Problem::field).isEqualTo("data.name");
    }

    @Test
    void theReasonSaysWhatIsWrongWithTheName() {
        assertThat(problems(MINIMAL + "data: /etc\n")).singleElement().extracting(Problem::message).asString()
                .startsWith("data \"/etc\" is an absolute path: it must be a path under the worker's data root");
        assertThat(problems(MINIMAL + "data: a/../../etc\n")).singleElement().extracting(Problem::message)
                .asString().startsWith("data \"a/../../etc\" leaves the root with ..");
    }

    @ParameterizedTest
    @ValueSource(strings = {"file:/etc/passwd", "file:../x.zip", "file:models/../../x.zip", "file:~/x.zip"})
    void aModelFileOutsideTheModelRootIsRefused(String spec) {
        assertThat(problems("job: a\nmodel: \"" + spec + "\"\n")).singleElement().satisfies(p -> {
            assertThat(p.field()).isEqualTo("model");
            assertThat(p.message()).contains("the path after file: must be a path under the worker's model root")
                    .contains("fix: e.g. file:lenet5.zip");
        });
    }

    @Test
    void aModelFileUnderTheRootIsAccepted() {
        assertThat(Recipe.parse("job: a\nmodel: file:team/net-2.zip\n").model().file())
                .hasValue(Path.of("team/net-2.zip"));
    }

    @Test
    void aRecipeBuiltInCodeCannotHoldAnAbsolutePathEither() {
        RecipeException data = catchThrowableOfType(RecipeException.class, () -> DataSpec.named("/etc"));
        RecipeException model = catchThrowableOfType(RecipeException.class,
                () -> ModelSource.file(Path.of("/etc/passwd")));

        assertThat(data.problems()).singleElement().extracting(Problem::field).isEqualTo("data.name");
        assertThat(model.problems()).singleElement().extracting(Problem::field).isEqualTo("model");
    }

    @Test
    void validationIsAFractionOrACount() {
        assertThat(Recipe.parse(MINIMAL + "data: {name: d, validation: 0.2}\n").data().validation())
                .isEqualTo(ValidationSplit.fraction(0.2));
        assertThat(Recipe.parse(MINIMAL + "data: {name: d, validation: 5000}\n").data().validation())
                .isEqualTo(ValidationSplit.count(5000));
        assertThat(ValidationSplit.count(5000).examples(60_000)).isEqualTo(5000);
        assertThat(ValidationSplit.fraction(0.1).examples(2000)).isEqualTo(200);
        assertThat(ValidationSplit.fraction(0.1).examples(3)).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "0.0", "0.6", "-3", "1.5e300", "\"ten\""})
    void aValidationOutOfRangeIsRefused(String value) {
        assertThat(problems(MINIMAL + "data: {name: d, validation: " + value + "}\n")).singleElement()
                .extracting(Problem::field).isEqualTo("data.validation");
    }

    @Test
    void aValidationThatLeavesNothingToTrainOnSaysSo() {
        assertThat(catchThrowableOfType(IllegalArgumentException.class,
                () -> ValidationSplit.count(100).examples(100)))
                .hasMessageContaining("leaves none to train on").hasMessageContaining("fix:");
    }

    @Test
    void aShapeIsChannelsHeightWidthOfGreyOrColourImages() {
        assertThat(Recipe.parse(MINIMAL + "data: {name: d, shape: [1, 28, 28]}\n").data().shape())
                .hasValue(InputShape.image(1, 28, 28));
        assertThat(problems(MINIMAL + "data: {name: d, shape: [28, 28]}\n")).singleElement()
                .extracting(Problem::message).asString().contains("is not [channels, height, width]");
        assertThat(problems(MINIMAL + "data: {name: d, shape: [2, 28, 28]}\n")).singleElement()
                .extracting(Problem::message).asString().contains("grey (1) or colour (3)");
        assertThat(problems(MINIMAL + "data: {name: d, shape: [3, 0, 28]}\n")).singleElement()
                .extracting(Problem::field).isEqualTo("data.shape");
    }

    @Test
    void aModelThatCannotReadTheDeclaredShapeIsRefusedAtSubmission() {
        assertThat(problems(MINIMAL + "data: {name: d, shape: [1, 8, 8]}\n")).singleElement().satisfies(p -> {
            assertThat(p.field()).isEqualTo("model");
            assertThat(p.message()).contains("needs examples of at least 12x12").contains("1x8x8").contains("fix:");
        });
        assertThat(Recipe.parse(ANY_SIZE + "data: {name: d, shape: [1, 8, 8]}\n").data().shape())
                .hasValue(InputShape.image(1, 8, 8));
        assertThat(catchThrowableOfType(RecipeException.class, () -> new Recipe("a", ModelSource.LENET5,
                Recipe.parse(ANY_SIZE + "data: {name: d, shape: [1, 8, 8]}\n").data(), Training.defaults(),
                PruningSpec.defaults(), ScheduleSpec.defaults(), FineTune.defaults(), AccuracyBudget.defaults(),
                Checkpoints.defaults(), new Publish("a"))).problems()).extracting(Problem::field)
                .containsExactly("model");
    }

    @Test
    void aNormalizationGivesOneMeanAndOnePositiveStdPerChannel() {
        assertThat(problems(MINIMAL + "data: {name: d, normalization: {mean: [0.5, 0.5], std: [0.2]}}\n"))
                .singleElement().extracting(Problem::field).isEqualTo("data.normalization.std");
        assertThat(problems(MINIMAL + "data: {name: d, normalization: {mean: [0.5], std: [0]}}\n"))
                .singleElement().extracting(Problem::field).isEqualTo("data.normalization.std[0]");
        assertThat(problems(MINIMAL + "data: {name: d, normalization: {mean: [0.5]}}\n"))
                .singleElement().extracting(Problem::field).isEqualTo("data.normalization.std");
        assertThat(problems(ANY_SIZE + "data: {name: d, shape: [3, 8, 8], normalization: {mean: [0.5], std: [0.2]}}\n"))
                .singleElement().extracting(Problem::field).isEqualTo("data.normalization");
    }

    @Test
    void augmentationIsOffUnlessAsked() {
        assertThat(Recipe.parse(MINIMAL + "data: {name: d, augmentation: {crop: 4, flip: true}}\n").data()
                .augmentation()).isEqualTo(new Augmentation(4, true));
        assertThat(Recipe.parse(MINIMAL + "data: {name: d, augmentation: {flip: true}}\n").data()
                .augmentation()).isEqualTo(new Augmentation(0, true));
        assertThat(problems(MINIMAL + "data: {name: d, augmentation: {crop: 65}}\n")).singleElement()
                .extracting(Problem::field).isEqualTo("data.augmentation.crop");
        assertThat(problems(MINIMAL + "data: {name: d, augmentation: {flip: yes please}}\n")).singleElement()
                .extracting(Problem::field).isEqualTo("data.augmentation.flip");
    }

    @Test
    void anUnknownDataKeySuggestsTheClosest() {
        assertThat(problems(MINIMAL + "data: {name: d, validaton: 0.1}\n")).singleElement()
                .extracting(Problem::message).asString().contains("did you mean validation?");
    }

    @Test
    void aDataSectionWithoutANameIsRefused() {
        assertThat(problems(MINIMAL + "data: {validation: 0.1}\n")).singleElement()
                .extracting(Problem::field).isEqualTo("data.name");
    }

    @Test
    void aDataSectionRoundTripsThroughYaml() {
        Recipe recipe = Recipe.parse(ANY_SIZE + "data: {name: a/b, validation: 7, shape: [3, 4, 5],"
                + " normalization: {mean: [1, 2, 3], std: [0.5, 0.25, 2]}, augmentation: {crop: 2, flip: true}}\n");

        assertThat(Recipe.parse(recipe.toYaml())).isEqualTo(recipe);
        assertThat(recipe.data().shape()).hasValue(InputShape.image(3, 4, 5));
        assertThat(recipe.data().normalization()).isEqualTo(Optional.of(
                new Normalization(List.of(1.0, 2.0, 3.0), List.of(0.5, 0.25, 2.0))));
    }
}
