package dev.shears.trainer.cli;

import dev.shears.common.recipe.DataSpec;
import dev.shears.common.recipe.Recipe;
import dev.shears.common.recipe.RecipeException;
import dev.shears.trainer.checkpoint.StepResult;
import dev.shears.trainer.data.DataConfig;
import dev.shears.trainer.data.DatasetException;
import dev.shears.trainer.data.JobInputs;
import dev.shears.trainer.data.Roots;
import dev.shears.trainer.job.Progress;
import dev.shears.trainer.job.TrainJob;
import dev.shears.trainer.metrics.MetricsServer;
import dev.shears.trainer.metrics.TrainerMetrics;
import dev.shears.trainer.publish.Publication;
import dev.shears.trainer.publish.Publisher;
import java.io.PrintStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code shears train}: a whole pruning job in one process, without Kafka. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Runs a recipe start to finish in this process: dense pre-training, each pruning step"
                + " (prune, fine-tune, evaluate, checkpoint), then remove, compaction and publication.",
                "Run it again with the same --out to resume from the last checkpoint."})
public final class TrainCommand implements Callable<Integer> {

    @Option(names = "--recipe", required = true, paramLabel = "FILE", description = "the recipe (YAML)")
    Path recipeFile;

    @Option(names = "--out", required = true, paramLabel = "DIR",
            description = "the job's directory: checkpoints, models/, summary.json")
    Path out;

    @Option(names = "--data", paramLabel = "NAME", description = "the data set, by name under the data root,"
            + " instead of the recipe's")
    String data;

    @Mixin
    MetricsOptions metrics = new MetricsOptions(9400);

    @Mixin
    DataOptions dataOptions = new DataOptions();

    @Override
    public Integer call() throws Exception {
        PrintStream report = System.out;
        Recipe recipe = load(recipeFile, data);
        if (recipe == null) {
            return 2;
        }
        DataConfig dataConfig;
        try {
            dataConfig = dataOptions.config();
        } catch (IllegalArgumentException e) {
            System.err.println("shears: " + e.getMessage());
            return 2;
        }
        MetricsServer server = metrics.start();
        try {
            TrainerMetrics trainerMetrics = new TrainerMetrics(MetricsOptions.registry(server), "local");
            report.printf("shears train: job %s, recipe %s, out %s%n", recipe.job(), recipeFile, out);
            if (server != null) {
                report.printf("metrics: %s%n", server.url());
            }
            JobInputs inputs = dataConfig.inputs(Path.of(System.getProperty("java.io.tmpdir"), "shears-data-train"));
            TrainJob.Summary summary = new TrainJob(recipe, out, inputs, Progress.console(), report, trainerMetrics)
                    .run();
            printSummary(report, summary, out, server);
            return 0;
        } catch (Roots.UnavailableException e) {
            System.err.println("shears: " + e.getMessage() + " [" + e.detail() + "]");
            return 3;
        } catch (DatasetException e) {
            System.err.println("shears: " + e.getMessage());
            return 3;
        } finally {
            if (server != null) {
                server.close();
            }
        }
    }

    /**
     * The recipe in {@code file}, on {@code data} instead of its own when given; null after printing why to standard
     * error when it cannot be read or does not validate.
     */
    static Recipe load(Path file, String data) throws java.io.IOException {
        Recipe recipe;
        try {
            recipe = Recipe.load(file);
        } catch (NoSuchFileException e) {
            System.err.println("shears: no recipe at " + file + " (fix: give a YAML recipe, e.g. "
                    + "trainer/src/main/resources/recipes/lenet5-fmnist-90.yaml)");
            return null;
        } catch (RecipeException e) {
            System.err.println("shears: " + file + ": " + e.getMessage());
            return null;
        }
        if (data != null) {
            DataSpec d = recipe.data();
            recipe = new Recipe(recipe.job(), recipe.model(), new DataSpec(data, d.validation(), d.shape(),
                    d.normalization(), d.augmentation()), recipe.training(), recipe.pruning(), recipe.schedule(),
                    recipe.fineTune(), recipe.accuracyBudget(), recipe.checkpoints(), recipe.publish());
        }
        return recipe;
    }

    static void printSummary(PrintStream out, TrainJob.Summary s, Path dir, MetricsServer server) {
        Publication p = s.publication();
        StepResult last = s.steps().get(s.steps().size() - 1);
        out.println();
        if (p.compactedLayers().isEmpty() && p.model().getFileName().toString().equals("sensitivity.json")) {
            out.printf(Locale.ROOT, "published the sensitivity report %s -> %s (dense accuracy %.4f)%n", p.name(),
                    p.model(), last.accuracy());
            out.printf(Locale.ROOT, "  sha256 %s%n  chart  %s%n", p.sha256(), p.dir().resolve("sensitivity.png"));
        } else {
            printModel(out, s, p, last);
        }
        out.printf(Locale.ROOT, "%nsummary: %s   wall time: %.0f s%n", dir.resolve("summary.json"), s.seconds());
        if (server != null) {
            out.printf(Locale.ROOT, "metrics were served at %s%n", server.url());
        }
    }

    private static void printModel(PrintStream out, TrainJob.Summary s, Publication p, StepResult last) {
        out.printf(Locale.ROOT, "published %s -> %s%n", p.name(), p.model());
        out.printf(Locale.ROOT, "  sha256 %s%n", p.sha256());
        if (p.sparseModel() != null) {
            out.printf(Locale.ROOT, "  sparse encoding %s%n", p.sparseModel());
        }
        out.printf(Locale.ROOT, "%n%-20s %16s %16s%n", "", "dense", "published");
        out.printf(Locale.ROOT, "%-20s %16s %16s%n", "size", bytes(p.denseBytes()) + " (f32)",
                bytes(p.sparseModel() != null ? p.sparseBytes() : p.bytes()));
        out.printf(Locale.ROOT, "%-20s %16s %16s%n", "FLOPs / example", mega(p.dense().flops()),
                mega(p.published().flops()) + (p.nonZeroFlops() < p.published().flops()
                        ? " (" + mega(p.nonZeroFlops()) + " nz)" : ""));
        out.printf(Locale.ROOT, "%-20s %16d %16d%n", "parameters", p.dense().parameters(), p.published().parameters());
        StepResult dense = s.steps().get(0);
        out.printf(Locale.ROOT, "%-20s %16.4f %16.4f  (%+.2f points)%n", "validation accuracy", s.denseAccuracy(),
                last.accuracy(), 100 * (last.accuracy() - s.denseAccuracy()));
        out.printf(Locale.ROOT, "%-20s %16.4f %16.4f  (%+.2f points)%n", "test accuracy", dense.testAccuracy(),
                last.testAccuracy(), 100 * (last.testAccuracy() - dense.testAccuracy()));
        out.printf(Locale.ROOT, "%-20s %16s %16s%n", "sparsity", "0.00%", String.format(Locale.ROOT, "%.2f%%",
                100 * last.achievedSparsity()));
        out.printf(Locale.ROOT, "%-20s %13.3f ms %13.3f ms%n", "latency (batch 1)", p.dense().latencyMs(),
                p.published().latencyMs());
        out.printf(Locale.ROOT, "%-20s %13.3f ms %13.3f ms%n", "latency (batch " + Publisher.BATCH + ")",
                p.dense().batchLatencyMs(), p.published().batchLatencyMs());
        if (p.dense().fusedLatencyMs() != null && p.published().fusedLatencyMs() != null) {
            out.printf(Locale.ROOT, "%-20s %13.3f ms %13.3f ms%n", "fused, batch 1", p.dense().fusedLatencyMs(),
                    p.published().fusedLatencyMs());
            out.printf(Locale.ROOT, "%-20s %13.3f ms %13.3f ms%n", "fused, batch " + Publisher.BATCH,
                    p.dense().fusedBatchLatencyMs(), p.published().fusedBatchLatencyMs());
        }
        if (!p.compactedLayers().isEmpty()) {
            out.printf(Locale.ROOT, "compacted layers (channels kept): %s%n", p.compactedLayers());
        }
    }

    private static String bytes(long b) {
        return b >= 1 << 20 ? String.format(Locale.ROOT, "%.2f MB", b / 1048576.0)
                : String.format(Locale.ROOT, "%.1f KB", b / 1024.0);
    }

    private static String mega(long flops) {
        return String.format(Locale.ROOT, "%.2f M", flops / 1e6);
    }

}
