package dev.shears.common.events;

import java.util.Optional;

/**
 * Ends a job: the worker makes the pruning of step {@code lastStep} permanent ({@code remove}),
 * compacts structured-pruned layers where asked, verifies the permanent model against the masked
 * one, writes the artifact and reports {@link ModelPublished}. Sent with seq = steps + 1 (one past
 * the schedule), after {@code lastStep} completed (or after a {@link RollBack} to it).
 *
 * <p>The worker publishes only the checkpoint whose key is {@code (attempt, lastStep)}, the one the
 * scheduler accepted: not an older attempt's of the same step that it fell back to after the
 * newer one was found damaged (a model the accuracy budget refused, before its extra fine-tune).
 *
 * @param lastStep the step whose checkpoint is published, in [0, 10000]: the schedule's last, or
 *     the last good one when the job stopped early (0 publishes the dense model)
 * @param attempt the attempt of the command that led to that checkpoint (its {@link PruneStep}'s,
 *     its {@link RollBack}'s, 1 for the dense model), in [0, 10^6]; 0 in an event of version 1, which
 *     did not say: then any attempt's checkpoint of {@code lastStep} is published
 */
public record Finalize(int lastStep, int attempt) implements Command {

    /** @throws IllegalArgumentException when a field is out of range */
    public Finalize {
        Check c = new Check("Finalize");
        c.range("lastStep", lastStep, 0, Limits.MAX_STEPS,
                "the seq of the checkpoint to publish, e.g. the schedule's number of steps");
        c.range("attempt", attempt, 0, Limits.MAX_ATTEMPT,
                "the attempt of the checkpoint to publish, as its StepCompleted or JobResumed said");
    }

    /** The key of the checkpoint to publish; empty when the event did not say (version 1). */
    public Optional<CommandKey> key() {
        return attempt == 0 ? Optional.empty() : Optional.of(new CommandKey(attempt, lastStep));
    }
}
