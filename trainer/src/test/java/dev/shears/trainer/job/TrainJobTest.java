package dev.shears.trainer.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import dev.shears.common.recipe.DataSpec;
import dev.shears.common.recipe.Publish;
import dev.shears.common.recipe.Recipe;
import dev.shears.trainer.cpu.FusedInference;
import dev.shears.trainer.checkpoint.JobDirectory;
import dev.shears.trainer.checkpoint.Checkpoints;
import dev.shears.trainer.checkpoint.StepResult;
import dev.shears.trainer.data.Subset;
import dev.shears.trainer.metrics.TrainerMetrics;
import dev.shears.trainer.publish.SparseModel;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import dev.shears.trainer.checkpoint.Json;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole local job on the committed Fashion-MNIST subset, with a tiny budget. */
class TrainJobTest {
    @TempDir
    Path out;

    static Recipe quick() throws Exception {
        return onSubset("quick.yaml");
    }

    static Recipe onSubset(String file) throws Exception {
        Recipe r = Recipe.load(Path.of("src/test/resources/recipes", file));
        return new Recipe(r.job(), r.model(), DataSpec.named(Subset.NAME), r.training(), r.pruning(), r.schedule(),
                r.fineTune(),
                r.accuracyBudget(), r.checkpoints(), r.publish());
    }

    static TrainJob.Summary run(Recipe recipe, Path out, ByteArrayOutputStream report) throws Exception {
        return new TrainJob(recipe, out, Subset.inputs(), Progress.silent(),
                new PrintStream(report, true, StandardCharsets.UTF_8),
                new TrainerMetrics(new SimpleMeterRegistry(), "test")).run();
    }

    @Test
    void runsToAPublishedModelWithTheExactTargetSparsityAtEveryStep() throws Exception {
        ByteArrayOutputStream report = new ByteArrayOutputStream();
        TrainJob.Summary summary = run(quick(), out, report);

        List<StepResult> steps = summary.steps();
        assertThat(steps).extracting(StepResult::seq).containsExactly(0, 1, 2, 3);
        for (StepResult s : steps.subList(1, steps.size())) {
            // 61,470 weights over conv*/fc*: the achieved count is round-half-even(target * total).
            long total = 150 + 2400 + 48000 + 10080 + 840;
            assertThat(s.achievedSparsity() * total).isEqualTo((double) Math.rint(s.targetSparsity() * total));
        }
        assertThat(steps.get(3).achievedSparsity()).isEqualTo(0.8, org.assertj.core.data.Offset.offset(1e-4));
        assertThat(summary.denseAccuracy()).isGreaterThan(0.5);
        assertThat(report.toString(StandardCharsets.UTF_8)).contains("step").contains("80.00%");

        var p = summary.publication();
        assertThat(Checkpoints.sha256(p.model())).isEqualTo(p.sha256());
        MultiLayerNetwork published = ModelSerializer.restoreMultiLayerNetwork(p.model().toFile());
        long zeros = published.params().length()
                - published.params().neq(0).castTo(org.nd4j.linalg.api.buffer.DataType.INT64).sumNumber().longValue();
        assertThat(zeros).isGreaterThanOrEqualTo(Math.round(0.8 * 61470));
        assertThat(p.sparseModel()).isNotNull();
        assertThat(SparseModel.read(p.sparseModel()).params()).isEqualTo(published.params());
        assertThat(p.sparseBytes()).isLessThan(p.bytes());
        if (FusedInference.available()) {
            assertThat(p.dense().fusedLatencyMs()).isPositive();
            assertThat(p.published().fusedBatchLatencyMs()).isPositive();
        }
        assertThat(out.resolve("models/quick-lenet5/latest").toRealPath()).isEqualTo(p.dir().toRealPath());
        assertThat(Files.readString(p.dir().resolve("manifest.json"))).contains(p.sha256())
                .contains("\"job\" : \"quick-lenet5\"");
        assertThat(out.resolve("summary.json")).exists();
    }

    @Test
    void aResNetPrunedByDependencyGroupsIsPublishedCompactedWithEveryGroupAtHalfItsChannels() throws Exception {
        TrainJob.Summary summary = run(onSubset("quick-resnet.yaml"), out, new ByteArrayOutputStream());

        assertThat(summary.steps()).extracting(StepResult::seq).containsExactly(0, 1, 2);
        assertThat(summary.steps().get(2).achievedSparsity()).isEqualTo(0.5);
        var p = summary.publication();
        ComputationGraph published = ModelSerializer.restoreComputationGraph(p.model().toFile());
        assertThat(published.numParams()).isEqualTo(p.published().parameters()).isLessThan(p.dense().parameters());
        assertThat(p.published().flops()).isLessThan(p.dense().flops() / 2);
        // ResNet-8 of width 4: one residual group per stage (the first with the stem), one inner group per block
        assertThat(p.compactedLayers()).containsOnly(entry("conv1", 2), entry("layer1.0.conv1", 2),
                entry("layer2.0.conv1", 4), entry("layer2.0.conv2", 4), entry("layer3.0.conv1", 8),
                entry("layer3.0.conv2", 8));
        var manifest = Json.MAPPER.readTree(p.dir().resolve("manifest.json").toFile());
        assertThat(manifest.path("format").asText()).contains("ComputationGraph");
        assertThat(manifest.path("keptChannels").path("layer2.0.conv1")).hasSize(4);
        assertThat(manifest.path("cost").path("dense").path("batchLatencyMs").asDouble()).isPositive();
        if (FusedInference.available()) { // the compacted graph compiled for inference, checked against the masked one
            assertThat(p.published().fusedLatencyMs()).isPositive();
            assertThat(manifest.path("cost").path("published").path("fusedBatchLatencyMs").asDouble()).isPositive();
        }
        assertThat(manifest.path("cost").path("published").path("parameters").asLong())
                .isEqualTo(published.numParams());
        Path sparse = out.resolve("graph.sparse.zip");
        SparseModel.write(published, sparse);
        Model back = SparseModel.read(sparse);
        assertThat(back).isInstanceOf(ComputationGraph.class);
        assertThat(back.params()).isEqualTo(published.params());
    }

    @Test
    void aRecipeThatPublishesASensitivityReportTrainsDenseAndPublishesTheReportInsteadOfAModel() throws Exception {
        Recipe r = onSubset("quick-resnet.yaml");
        Recipe report = new Recipe(r.job(), r.model(), r.data(), r.training(), r.pruning(), r.schedule(), r.fineTune(),
                r.accuracyBudget(), r.checkpoints(),
                new Publish("quick-resnet-sensitivity", Publish.Artifact.SENSITIVITY));
        TrainJob.Summary summary = run(report, out, new ByteArrayOutputStream());

        assertThat(summary.steps()).extracting(StepResult::seq).containsExactly(0);
        var p = summary.publication();
        assertThat(p.model().getFileName()).hasToString("sensitivity.json");
        assertThat(Checkpoints.sha256(p.model())).isEqualTo(p.sha256());
        assertThat(p.dir().resolve("sensitivity.png")).isRegularFile();
        var json = Json.MAPPER.readTree(p.model().toFile());
        assertThat(json.path("report").path("curves")).hasSize(6);
        assertThat(json.path("report").path("sparsities")).hasSize(9);
        assertThat(json.path("suggestion").path("target").asDouble()).isEqualTo(0.5);
        JobDirectory dir = JobDirectory.at(out);
        String checkpoint = dir.checkpoints().list().get(0).id();
        assertThat(dir.publishedFrom("quick-resnet-sensitivity", 0, checkpoint)).hasValueSatisfying(
                e -> assertThat(e.artifact()).isEqualTo(p.model()));
    }

    @Test
    void resumesFromTheLastGoodCheckpointAndFinishesTheSameSteps() throws Exception {
        run(quick(), out, new ByteArrayOutputStream());
        // Lose the last step's checkpoint, as if the process had died during step 3.
        Checkpoints checkpoints = new Checkpoints(out.resolve("checkpoints"));
        for (Checkpoints.Checkpoint c : checkpoints.list()) {
            if (c.seq() > 2) {
                try (var walk = Files.walk(c.dir())) {
                    walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            }
        }
        assertThat(checkpoints.list()).extracting(Checkpoints.Checkpoint::seq).contains(2L).doesNotContain(3L);
        ByteArrayOutputStream report = new ByteArrayOutputStream();
        TrainJob.Summary resumed = run(quick(), out, report);
        assertThat(report.toString(StandardCharsets.UTF_8)).contains("resumed quick-lenet5");
        assertThat(resumed.restoredFrom()).contains("ckpt-000002");
        assertThat(resumed.steps()).extracting(StepResult::seq).containsExactly(0, 1, 2, 3);
        assertThat(resumed.steps().get(3).achievedSparsity()).isEqualTo(0.8, org.assertj.core.data.Offset.offset(1e-4));
    }

    @Test
    void stopsAtTheLastGoodStepWhenAccuracyFallsBelowTheBudget() throws Exception {
        Recipe q = quick();
        Recipe strict = new Recipe(q.job(), q.model(), q.data(), q.training(), q.pruning(), q.schedule(), q.fineTune(),
                new dev.shears.common.recipe.AccuracyBudget(java.util.OptionalDouble.of(0.99),
                        java.util.OptionalDouble.empty(),
                        dev.shears.common.recipe.AccuracyBudget.Policy.STOP, java.util.OptionalInt.empty(), 0),
                q.checkpoints(), q.publish());
        ByteArrayOutputStream report = new ByteArrayOutputStream();
        TrainJob.Summary summary = run(strict, out, report);

        assertThat(report.toString(StandardCharsets.UTF_8)).contains("stopped: accuracy").contains("back to step 0");
        assertThat(summary.steps()).extracting(StepResult::seq).containsExactly(0);
        assertThat(summary.publication().layerSparsity().values()).containsOnly(0.0);
    }

    @Test
    void rollsBackAndRetriesHalfwayBeforeStoppingUnderTheRollbackPolicy() throws Exception {
        Recipe q = quick();
        Recipe strict = new Recipe(q.job(), q.model(), q.data(), q.training(), q.pruning(), q.schedule(), q.fineTune(),
                new dev.shears.common.recipe.AccuracyBudget(java.util.OptionalDouble.of(0.99),
                        java.util.OptionalDouble.empty(),
                        dev.shears.common.recipe.AccuracyBudget.Policy.ROLLBACK, java.util.OptionalInt.empty(), 1),
                q.checkpoints(), q.publish());
        double first = dev.shears.common.schedule.Schedule.of(q.schedule()).points().get(0).targetSparsity();
        ByteArrayOutputStream report = new ByteArrayOutputStream();
        TrainJob.Summary summary = run(strict, out, report);

        String text = report.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("stopped: accuracy").contains("back to step 0");
        assertThat(text).containsPattern(String.format(java.util.Locale.ROOT, "%6.2f%%.*stopped", 100 * first / 2));
        assertThat(summary.steps()).extracting(StepResult::seq).containsExactly(0);
        assertThat(summary.publication().layerSparsity().values()).containsOnly(0.0);
    }
}
