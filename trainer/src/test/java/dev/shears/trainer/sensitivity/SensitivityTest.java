package dev.shears.trainer.sensitivity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.shears.common.data.InputShape;
import dev.shears.common.recipe.PruningSpec;
import dev.shears.common.recipe.Recipe;
import dev.shears.trainer.checkpoint.Json;
import dev.shears.trainer.train.PruningPlan;
import dev.shears.trainer.model.Models;
import dev.shears.trainer.model.TrainableModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

class SensitivityTest {
    @TempDir
    Path dir;

    private static final SensitivityReport TWO_UNITS = new SensitivityReport("j", 0.9, List.of(0.25, 0.5, 0.75),
            List.of(new SensitivityReport.Curve("robust", 300, List.of(0.9, 0.89, 0.85)),
                    new SensitivityReport.Curve("fragile", 100, List.of(0.8, 0.5, 0.3))));

    @Test
    void eachUnitGoesAsFarAsItsCurveStaysWithinTheThresholdInterpolatingBetweenPoints() {
        SensitivityReport.Curve robust = TWO_UNITS.curves().get(0);
        SensitivityReport.Curve fragile = TWO_UNITS.curves().get(1);
        assertThat(TWO_UNITS.allowed(robust, 0.01)).isEqualTo(0.5, within(1e-12));
        assertThat(TWO_UNITS.allowed(robust, 0.03)).isEqualTo(0.5 + 0.25 * 0.02 / 0.04, within(1e-12));
        assertThat(TWO_UNITS.allowed(fragile, 0.05)).isEqualTo(0.25 * 0.05 / 0.1, within(1e-12));
        assertThat(TWO_UNITS.allowed(fragile, 1)).isEqualTo(0.75);
    }

    @Test
    void suggestsTheSmallestThresholdThatReachesTheTotalWeightedBySize() {
        SensitivityReport.Suggestion s = TWO_UNITS.suggest(0.4);

        assertThat(s.achieved()).isEqualTo(0.4, within(1e-9));
        // the robust unit takes most: at threshold t, 300 * robust(t) + 100 * fragile(t) = 0.4 * 400
        double robust = s.sparsity().get("robust");
        double fragile = s.sparsity().get("fragile");
        assertThat(300 * robust + 100 * fragile).isEqualTo(160, within(1e-6));
        assertThat(robust).isGreaterThan(fragile);
        assertThat(TWO_UNITS.allowed(TWO_UNITS.curves().get(0), s.threshold())).isEqualTo(robust);
    }

    @Test
    void aTotalBeyondTheGridIsReportedAsWhatTheGridReaches() {
        SensitivityReport.Suggestion s = TWO_UNITS.suggest(0.9);

        assertThat(s.achieved()).isEqualTo(0.75);
        assertThat(s.sparsity()).containsEntry("robust", 0.75).containsEntry("fragile", 0.75);
        assertThatThrownBy(() -> TWO_UNITS.suggest(1.0)).hasMessageContaining("total sparsity 1.0 is out of range");
    }

    @Test
    void analysesEachDependencyGroupOfATinyResNetAloneAndLeavesTheModelAsItWas() throws Exception {
        InputShape shape = InputShape.image(1, 8, 8);
        TrainableModel model = TrainableModel.of(Models.resnet(8, 4, shape, 3, 3, new Adam(0.01), 0), shape);
        PruningSpec spec = Recipe.parse("""
                job: s
                model: resnet
                pruning:
                  parameters: ["*"]
                  kinds: [conv]
                  method: ln_structured
                  norm: "2"
                  scope: local
                  structured:
                    groups: dependency
                """).pruning();
        PruningPlan plan = new PruningPlan(spec, 0.5, model.model(), model.newPruning(), 1);
        Nd4j.getRandom().setSeed(1);
        INDArray x = Nd4j.rand(DataType.FLOAT, 32, 1, 8, 8);
        INDArray reference = model.output(x);
        INDArray before = model.params().dup();
        // "accuracy": 1 - the largest change of an output probability from the dense model's
        java.util.function.DoubleSupplier agreement = () -> 1 - model.output(x).sub(reference).amaxNumber()
                .doubleValue();

        SensitivityReport report = Sensitivity.analyse("tiny", model, plan, List.of(0.5, 0.75), agreement);

        assertThat(report.denseAccuracy()).isEqualTo(1.0);
        assertThat(report.curves()).extracting(SensitivityReport.Curve::unit).containsExactly("conv1",
                "layer1.0.conv1", "layer2.0.conv1", "layer2.0.conv2", "layer3.0.conv1", "layer3.0.conv2");
        assertThat(report.curves()).extracting(SensitivityReport.Curve::size).containsExactly(4L, 4L, 8L, 8L, 16L, 16L);
        assertThat(report.curves())
                .allSatisfy(c -> assertThat(c.accuracy()).allSatisfy(a -> assertThat(a).isBetween(0.0, 1.0)));
        assertThat(report.curves().stream().flatMap(c -> c.accuracy().stream())).as("pruning changes some answers")
                .allSatisfy(a -> assertThat(a).isLessThan(1.0));
        assertThat(model.params()).isEqualTo(before);

        Sensitivity.Files files = Sensitivity.write(report, report.suggest(0.5), dir);
        byte[] png = Files.readAllBytes(files.chart());
        assertThat(png).startsWith(0x89, 'P', 'N', 'G');
        assertThat(Files.readString(files.table())).contains("layer3.0.conv2")
                .contains("targets for a total of 50.00%");
        var json = Json.MAPPER.readTree(files.json().toFile());
        assertThat(json.path("report").path("curves")).hasSize(6);
        assertThat(json.path("suggestion").path("sparsity").path("conv1").isNumber()).isTrue();
    }
}
