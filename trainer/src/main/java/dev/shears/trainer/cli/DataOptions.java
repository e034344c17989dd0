package dev.shears.trainer.cli;

import dev.shears.trainer.data.DataConfig;
import dev.shears.trainer.data.Roots;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * {@code --data-root DIR}, {@code --model-root DIR} (both repeatable), {@code --data-budget-mb MB} and
 * {@code --session-budget-mb MB}: what a trainer process lets recipes name, and how much memory their data and job
 * sessions may take. A picocli mixin of {@code shears worker} and {@code shears train}.
 */
final class DataOptions {

    @Option(names = "--data-root", paramLabel = "DIR", description = "a directory recipes name data sets under"
            + " (data: <name>), searched in the order given; repeatable (default: " + "/usr/share/datasets"
            + ", where dataset-fashion-mnist installs fashion-mnist)")
    List<Path> dataRoots = new ArrayList<>();

    @Option(names = "--model-root", paramLabel = "DIR", description = "a directory recipes name saved models under"
            + " (model: file:<name>); repeatable (default: none, so file: models are refused)")
    List<Path> modelRoots = new ArrayList<>();

    @Option(names = "--data-budget-mb", paramLabel = "MB", description = "heap the loaded data sets may take"
            + " together; a data set past it streams from a mapped file (default: a third of the maximum heap)")
    Long dataBudgetMb;

    @Option(names = "--session-budget-mb", paramLabel = "MB", description = "memory the open job sessions may take"
            + " together; past it the least recently used are closed and reopen from their checkpoints (default: a"
            + " third of the maximum heap)")
    Long sessionBudgetMb;

    /**
     * The settings given, the defaults of {@link DataConfig#defaults()} for the others.
     *
     * @throws IllegalArgumentException when a budget is negative
     */
    DataConfig config() {
        DataConfig d = DataConfig.defaults();
        return d.withDataRoots(dataRoots.isEmpty() ? List.of(Roots.DEBIAN_DATASETS) : dataRoots)
                .withModelRoots(modelRoots)
                .withBudgets(dataBudgetMb == null ? d.dataBudgetBytes() : megabytes(dataBudgetMb),
                        sessionBudgetMb == null ? d.sessionBudgetBytes() : megabytes(sessionBudgetMb));
    }

    private static long megabytes(long mb) {
        if (mb < 0 || mb > Long.MAX_VALUE >> 20) {
            throw new IllegalArgumentException("budget " + mb + " MB is out of range: must be >= 0 (fix: e.g. 512)");
        }
        return mb << 20;
    }
}
