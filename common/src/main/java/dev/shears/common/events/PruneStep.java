package dev.shears.common.events;

/**
 * Prunes to an absolute target, then fine-tunes (or rewinds, for the lottery ticket procedure),
 * evaluates, checkpoints and reports {@link StepCompleted}. Sent with seq = {@code step}, only
 * after the previous seq completed.
 *
 * <p>{@code attempt} tells a redo from a redelivery. It is the job's, not the step's: the
 * scheduler raises it whenever it asks for work done before to be done again (an extra fine-tune,
 * the same step and target with more iterations; a {@link RollBack}; steps re-sent after a restore
 * lost them), and every later command carries the new value; a retry after a retryable
 * {@link JobFailed} keeps it. A worker orders command effects by {@code (attempt, seq)}: equal to
 * what it last applied is a redelivery (acknowledge again), lower is superseded (ignore), higher
 * is new. The full rules are in {@code common/EVENTS.md}.
 *
 * @param step the schedule step, in [1, 10000]
 * @param targetSparsity the fraction of the selected weights pruned after this step, in [0, 1);
 *     absolute, not a fraction of what remains
 * @param fineTuneIterations training iterations (mini-batches) after pruning, in [0, 10^9]
 * @param rewind whether the surviving weights are rewound to their early values instead of
 *     fine-tuned from where they are
 * @param attempt the job's attempt, from 1; see above
 */
public record PruneStep(int step, double targetSparsity, long fineTuneIterations, boolean rewind, int attempt)
        implements
            Command {

    /** @throws IllegalArgumentException when a field is out of range */
    public PruneStep {
        Check c = new Check("PruneStep");
        c.range("step", step, 1, Limits.MAX_STEPS, "steps are numbered from 1; seq 0 is JobStarted");
        c.range("targetSparsity", targetSparsity, 0, 1, false,
                "an absolute sparsity: the fraction of the selected weights pruned, e.g. 0.9");
        c.range("fineTuneIterations", fineTuneIterations, 0, Limits.MAX_ITERATIONS,
                "a number of mini-batches, e.g. 500, or 0 to skip fine-tuning");
        c.range("attempt", attempt, 1, Limits.MAX_ATTEMPT, "1 for the first attempt, raised for each redo");
    }
}
