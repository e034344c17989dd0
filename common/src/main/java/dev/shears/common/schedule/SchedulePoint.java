package dev.shears.common.schedule;

/**
 * One pruning step: after it, the selected parameters are {@code targetSparsity} pruned.
 *
 * @param step the step's number, from 1
 * @param targetSparsity the fraction of the selected weights pruned after this step, in [0, 1);
 *     absolute, not a fraction of what remains
 * @param rewind whether the surviving weights are rewound to their earlier values after pruning
 *     (the lottery ticket procedure) instead of fine-tuned from where they are
 */
public record SchedulePoint(int step, double targetSparsity, boolean rewind) {

    /** @throws IllegalArgumentException when {@code step < 1} or the target is outside [0, 1) */
    public SchedulePoint {
        if (step < 1) {
            throw new IllegalArgumentException("schedule step " + step + " is out of range: steps are numbered from 1");
        }
        if (!(targetSparsity >= 0 && targetSparsity < 1)) {
            throw new IllegalArgumentException("targetSparsity " + targetSparsity + " of step " + step
                    + " is out of range: must be in [0, 1) (fix: a sparsity is the fraction of weights pruned,"
                    + " e.g. 0.9)");
        }
    }
}
