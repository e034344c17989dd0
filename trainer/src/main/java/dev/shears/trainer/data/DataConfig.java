package dev.shears.trainer.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What a worker lets recipes name and how much of its heap their data and job sessions may take.
 *
 * @param dataRoots          where data set names resolve ({@code --data-root}), searched in order
 * @param modelRoots         where {@code model: file:<name>} resolves ({@code --model-root}); empty for none
 * @param dataBudgetBytes    the heap the loaded data sets may take together ({@code --data-budget-mb}); a data set past
 *                           it streams from a mapped file; >= 0
 * @param sessionBudgetBytes what the open job sessions may take together ({@code --session-budget-mb}); past it the
 *                           least recently used are closed (they reopen from their checkpoints); >= 0
 */
public record DataConfig(List<Path> dataRoots, List<Path> modelRoots, long dataBudgetBytes, long sessionBudgetBytes) {

    /** @throws IllegalArgumentException when a budget is negative or no data root is given */
    public DataConfig {
        dataRoots = List.copyOf(Objects.requireNonNull(dataRoots, "dataRoots"));
        modelRoots = List.copyOf(Objects.requireNonNull(modelRoots, "modelRoots"));
        if (dataRoots.isEmpty()) {
            throw new IllegalArgumentException("no data root: a worker needs at least one (fix: --data-root DIR, e.g. "
                    + Roots.DEBIAN_DATASETS + ")");
        }
        if (dataBudgetBytes < 0 || sessionBudgetBytes < 0) {
            throw new IllegalArgumentException("budgets of " + dataBudgetBytes + " bytes for data and "
                    + sessionBudgetBytes + " for sessions are out of range: each must be >= 0");
        }
    }

    /**
     * Data sets under {@link Roots#DEBIAN_DATASETS} (where {@code dataset-fashion-mnist} installs), no model root, and
     * a third of the maximum heap for data sets and another for job sessions.
     */
    public static DataConfig defaults() {
        long third = Runtime.getRuntime().maxMemory() / 3;
        return new DataConfig(List.of(Roots.DEBIAN_DATASETS), List.of(), third, third);
    }

    /** With these data roots, searched in order. */
    public DataConfig withDataRoots(List<Path> roots) {
        return new DataConfig(roots, modelRoots, dataBudgetBytes, sessionBudgetBytes);
    }

    /** With these model roots, searched in order. */
    public DataConfig withModelRoots(List<Path> roots) {
        return new DataConfig(dataRoots, roots, dataBudgetBytes, sessionBudgetBytes);
    }

    /** With these budgets, in bytes. */
    public DataConfig withBudgets(long dataBytes, long sessionBytes) {
        return new DataConfig(dataRoots, modelRoots, dataBytes, sessionBytes);
    }

    /** A fresh cache over the data roots, spilling data sets over its budget under {@code spillDir}, and the model roots. */
    public JobInputs inputs(Path spillDir) {
        return new JobInputs(new DataCache(Roots.of("data", dataRoots), dataBudgetBytes, spillDir),
                Roots.of("model", modelRoots));
    }
}
