package dev.shears.common.events;

/**
 * A report from a worker to the scheduler, on the {@link Topics#reports() reports} topic keyed by
 * job id.
 */
public sealed interface Report extends Payload
        permits StepCompleted, JobProgress, JobFailed, JobResumed, ModelPublished {
}
