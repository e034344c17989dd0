package dev.shears.common.events;

/**
 * A worker restored a checkpoint: after a restart, after falling back to an older checkpoint
 * whose checksum held, or for a {@link RollBack}. Sent with seq = {@code restoredSeq}. When a
 * restore the scheduler did not ask for lost completed steps ({@code stepsRedone > 0}), the
 * scheduler sends the commands after {@code restoredSeq} again, under a new attempt.
 *
 * @param restoredSeq the seq of the checkpoint restored, at least 0
 * @param stepsRedone completed steps the restore discarded, which must run again, at least 0
 * @param worker the worker that restored
 */
public record JobResumed(long restoredSeq, long stepsRedone, String worker) implements Report {

    /** @throws IllegalArgumentException when a field is out of range */
    public JobResumed {
        Check c = new Check("JobResumed");
        c.range("restoredSeq", restoredSeq, 0, Long.MAX_VALUE, "the seq recorded in the restored checkpoint");
        c.range("stepsRedone", stepsRedone, 0, Long.MAX_VALUE, "0 when nothing was lost");
        c.token("worker", worker, "trainer-0");
    }
}
