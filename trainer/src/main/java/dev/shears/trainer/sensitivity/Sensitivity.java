package dev.shears.trainer.sensitivity;

import dev.shears.prune.Pruning;
import dev.shears.trainer.train.PruningPlan;
import dev.shears.trainer.model.TrainableModel;
import dev.shears.trainer.checkpoint.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleSupplier;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Sensitivity analysis (as in NNI, SparseML, Intel Neural Compressor): each unit a pruning plan prunes — a layer's
 * weight, or a dependency group — pruned alone to each sparsity of a grid, by the plan's method, and the model
 * evaluated; the model is put back as it was after each.
 */
public final class Sensitivity {
    /** The grid {@code shears sensitivity} uses: 10 %, 20 %, ... 90 %. */
    public static final List<Double> DEFAULT_GRID = List.of(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9);

    private Sensitivity() {}

    /**
     * Analyses {@code model}, which must be unpruned (a trained dense model).
     *
     * @param plan what to prune and how (the recipe's pruning section over this model)
     * @param sparsities the grid, ascending, each in (0, 1)
     * @param accuracy evaluates the model as it is now (on the validation split), in [0, 1]
     * @return the curves; the model's parameters are as they were
     * @throws IllegalArgumentException when the grid is empty, not ascending or out of (0, 1)
     */
    public static SensitivityReport analyse(String job, TrainableModel model, PruningPlan plan, List<Double> sparsities,
            DoubleSupplier accuracy) {
        checkGrid(sparsities);
        INDArray dense = model.params().dup();
        double denseAccuracy = accuracy.getAsDouble();
        List<SensitivityReport.Curve> curves = new ArrayList<>();
        for (PruningPlan.Unit unit : plan.units(model.newPruning())) {
            List<Double> curve = new ArrayList<>();
            for (double s : sparsities) {
                Pruning alone = model.newPruning();
                plan.pruneAlone(alone, unit.name(), s);
                curve.add(accuracy.getAsDouble());
                model.params().assign(dense);
            }
            curves.add(new SensitivityReport.Curve(unit.name(), unit.size(), curve));
        }
        return new SensitivityReport(job, denseAccuracy, sparsities, curves);
    }

    /** The files {@link #write} writes. */
    public record Files(Path json, Path table, Path chart) {
    }

    /**
     * Writes the report and a suggestion into {@code dir}: {@code sensitivity.json} (both), {@code sensitivity.txt}
     * (both as tables) and {@code sensitivity.png} (the chart).
     */
    public static Files write(SensitivityReport report, SensitivityReport.Suggestion suggestion, Path dir)
            throws IOException {
        java.nio.file.Files.createDirectories(dir);
        Files files = new Files(dir.resolve("sensitivity.json"), dir.resolve("sensitivity.txt"),
                dir.resolve("sensitivity.png"));
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("report", report);
        json.put("suggestion", suggestion);
        java.nio.file.Files.writeString(files.json(), Json.write(json));
        java.nio.file.Files.writeString(files.table(), report.table() + "\n" + SensitivityReport.table(suggestion));
        SensitivityChart.writePng(report, files.chart(), 1000, 640);
        return files;
    }

    private static void checkGrid(List<Double> sparsities) {
        double previous = 0;
        for (double s : sparsities) {
            if (!(s > previous && s < 1)) {
                throw new IllegalArgumentException("sensitivity grid " + sparsities + " must be ascending fractions in"
                        + " (0, 1) (fix: e.g. " + DEFAULT_GRID + ")");
            }
            previous = s;
        }
        if (sparsities.isEmpty()) {
            throw new IllegalArgumentException("the sensitivity grid is empty (fix: e.g. " + DEFAULT_GRID + ")");
        }
    }
}
