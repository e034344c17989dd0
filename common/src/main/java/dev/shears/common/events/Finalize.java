package dev.shears.common.events;

/**
 * Ends a job: the worker makes the pruning of step {@code lastStep} permanent ({@code remove}),
 * compacts structured-pruned layers where asked, verifies the permanent model against the masked
 * one, writes the artifact and reports {@link ModelPublished}. Sent with seq = steps + 1 (one past
 * the schedule), after {@code lastStep} completed (or after a {@link RollBack} to it).
 *
 * @param lastStep the step whose checkpoint is published, in [0, 10000]: the schedule's last, or
 *     the last good one when the job stopped early (0 publishes the dense model)
 */
public record Finalize(int lastStep) implements Command {

    /** @throws IllegalArgumentException when {@code lastStep} is out of range */
    public Finalize {
        new Check("Finalize").range("lastStep", lastStep, 0, Limits.MAX_STEPS,
                "the seq of the checkpoint to publish, e.g. the schedule's number of steps");
    }
}
