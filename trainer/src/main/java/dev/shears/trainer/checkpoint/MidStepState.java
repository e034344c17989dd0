package dev.shears.trainer.checkpoint;

import dev.shears.common.data.Normalization;
import java.time.Instant;

/**
 * Where a step stood when a mid-step checkpoint was written: enough, with the model, its updater and its pruning state
 * beside it, to carry the step on from there bit for bit. Written as {@code state.json} in the job's mid-step
 * checkpoint ({@link Checkpoints#saveMidStep}); never a committed step.
 *
 * @param job the job id
 * @param seq the seq of the command whose step was training
 * @param attempt its attempt: with {@code seq}, the key of the command the checkpoint belongs to
 * @param base the id of the committed checkpoint the step started from, {@code ""} for dense pre-training from nothing
 * @param targetSparsity the step's target (0 for dense pre-training)
 * @param stepIterations the iterations the step trains in all
 * @param done the iterations of the step done, in [1, stepIterations)
 * @param iteration the job's training iterations done in all (the model is seeded by it)
 * @param epoch the data epoch the next batch comes from
 * @param batchInEpoch the index of the next batch in that epoch
 * @param normalization the normalisation the job's data is fed with
 * @param time when it was written
 */
public record MidStepState(String job, long seq, int attempt, String base, double targetSparsity, long stepIterations,
        long done, long iteration, long epoch, long batchInEpoch, Normalization normalization, Instant time) {

    /** Whether this is the state of the step of key {@code (attempt, seq)} at {@code target}, begun from {@code base}. */
    public boolean belongsTo(String job, long seq, int attempt, String base, double target, long iterations) {
        return this.job.equals(job) && this.seq == seq && this.attempt == attempt && this.base.equals(base)
                && Double.compare(targetSparsity, target) == 0 && stepIterations == iterations;
    }
}
