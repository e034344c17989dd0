package dev.shears.trainer.cli;

import dev.shears.common.recipe.Recipe;
import dev.shears.common.schedule.Schedule;
import dev.shears.trainer.checkpoint.JobDirectory;
import dev.shears.trainer.checkpoint.StepResult;
import dev.shears.trainer.data.DatasetException;
import dev.shears.trainer.data.Evaluation;
import dev.shears.trainer.data.JobInputs;
import dev.shears.trainer.data.Roots;
import dev.shears.trainer.job.JobSession;
import dev.shears.trainer.job.Progress;
import dev.shears.trainer.metrics.TrainerMetrics;
import dev.shears.trainer.sensitivity.Sensitivity;
import dev.shears.trainer.sensitivity.SensitivityReport;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sensitivity RECIPE}: trains the recipe's dense model (or resumes it from {@code --out}), prunes each unit the
 * recipe prunes alone at 10 % ... 90 %, and writes the accuracy curves as a table, JSON and a chart, with per-unit
 * targets for a total sparsity.
 */
@Command(name = "sensitivity", mixinStandardHelpOptions = true,
        description = "Prune each layer (or dependency group) of the recipe's trained dense model alone at 10 %% ... 90 %%,"
                + " report the accuracy curves (table, JSON, PNG chart) and suggest per-layer targets for a total.")
public final class SensitivityCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "RECIPE", description = "the recipe (YAML)")
    Path recipeFile;

    @Option(names = "--out", paramLabel = "DIR", description = "where the dense model's checkpoint and the report go"
            + " (default: runs/sensitivity/<job>)")
    Path out;

    @Option(names = "--total", paramLabel = "FRACTION", description = "the total sparsity to suggest targets for"
            + " (default: the recipe's final sparsity)")
    Double total;

    @Option(names = "--grid", split = ",", paramLabel = "FRACTION", description = "the sparsities each unit is pruned"
            + " to (default: 0.1,0.2,...,0.9)")
    List<Double> grid = Sensitivity.DEFAULT_GRID;

    @Option(names = "--data", paramLabel = "NAME", description = "the data set, by name under the data root,"
            + " instead of the recipe's")
    String data;

    @Mixin
    DataOptions dataOptions = new DataOptions();

    @Override
    public Integer call() throws Exception {
        PrintStream report = System.out;
        Recipe recipe = TrainCommand.load(recipeFile, data);
        if (recipe == null) {
            return 2;
        }
        Path dir = out != null ? out : Path.of("runs", "sensitivity", recipe.job());
        double target = total != null ? total : Schedule.of(recipe.schedule()).finalSparsity();
        try {
            JobInputs inputs = dataOptions.config().inputs(Path.of(System.getProperty("java.io.tmpdir"),
                    "shears-data-sensitivity"));
            Sensitivity.Files files = run(recipe, dir, inputs, grid, target, Progress.console(), report);
            report.printf("%nreport: %s%ntable:  %s%nchart:  %s%n", files.json(), files.table(), files.chart());
            return 0;
        } catch (Roots.UnavailableException e) {
            System.err.println("shears: " + e.getMessage() + " [" + e.detail() + "]");
            return 3;
        } catch (DatasetException | IllegalArgumentException | IllegalStateException e) {
            System.err.println("shears: " + e.getMessage());
            return 3;
        }
    }

    /**
     * Trains (or resumes) the dense model in {@code dir} on the data {@code inputs} finds, analyses it on the
     * validation split and writes the report there.
     */
    static Sensitivity.Files run(Recipe recipe, Path dir, JobInputs inputs, List<Double> grid, double total,
            Progress progress, PrintStream report) throws java.io.IOException {
        JobSession session = JobSession.open(recipe, JobDirectory.at(dir), inputs, progress,
                new TrainerMetrics(new SimpleMeterRegistry(), "sensitivity"));
        if (session.lastSeq() < 0) {
            long start = System.nanoTime();
            Evaluation eval = session.pretrain();
            session.commit(new StepResult(0, 0, 0, session.layerSparsity(), eval, session.iteration(),
                    (System.nanoTime() - start) / 1e9, session.samplesPerSecond(), "dense"));
        }
        report.printf("sensitivity of %s: dense accuracy %.4f (validation); each unit pruned alone at %s%n",
                recipe.job(),
                session.denseAccuracy(), grid);
        SensitivityReport analysis = session.sensitivity(grid);
        SensitivityReport.Suggestion suggestion = analysis.suggest(total);
        report.print(analysis.table());
        report.println();
        report.print(SensitivityReport.table(suggestion));
        return Sensitivity.write(analysis, suggestion, dir.resolve("sensitivity"));
    }
}
