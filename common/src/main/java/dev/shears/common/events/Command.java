package dev.shears.common.events;

/**
 * A command from the scheduler to the workers, on the {@link Topics#commands() commands} topic
 * keyed by job id. A worker applies each command's effect at most once: see {@code EVENTS.md}.
 */
public sealed interface Command extends Payload permits JobStarted, PruneStep, Finalize, CancelJob, RollBack {
}
