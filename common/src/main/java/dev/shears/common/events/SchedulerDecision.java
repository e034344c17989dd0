package dev.shears.common.events;

import java.util.List;

/**
 * What the scheduler decided about a job and why, kept in the job's history on the
 * {@link Topics#commands() commands} topic just before the commands it leads to. Workers
 * acknowledge it and do nothing else. Sent with seq = {@code seq}.
 *
 * @param seq the step the decision is about, at least 0
 * @param decision a code, {@code [a-z][a-z0-9_]{0,63}}: one of the constants here, or a newer one
 *     (readers treat unknown codes as text)
 * @param detail the figures behind it, for people; may be empty, at most 16,384 bytes of UTF-8
 */
public record SchedulerDecision(long seq, String decision, String detail) implements Payload {

    /** Fine-tune the last step longer before going on (a {@link PruneStep} with the same step, next attempt). */
    public static final String EXTRA_FINE_TUNE = "extra_fine_tune";
    /** Go back to the last good checkpoint, then on with a smaller step (a {@link RollBack}). */
    public static final String ROLLBACK = "rollback";
    /** Stop pruning and publish the last good step (a {@link Finalize}). */
    public static final String STOP = "stop";
    /** Send a failed command again after a retryable {@link JobFailed}. */
    public static final String RETRY = "retry";
    /** Send again the steps a worker lost (it resumed from an older checkpoint than the last step accepted). */
    public static final String REDO = "redo";
    /** Send a command again, under the same key, after nothing was heard of it for the scheduler's stall timeout. */
    public static final String RESEND = "resend";
    /** Fail the job: nothing was heard of its command through every resend (a {@link CancelJob} follows). */
    public static final String STALLED = "stalled";
    /** The codes this version of the scheduler decides; readers must still accept others. */
    public static final List<String> CODES = List.of(EXTRA_FINE_TUNE, ROLLBACK, STOP, RETRY, REDO, RESEND, STALLED);

    /** @throws IllegalArgumentException when a field is out of range */
    public SchedulerDecision {
        Check c = new Check("SchedulerDecision");
        c.range("seq", seq, 0, Long.MAX_VALUE, "the step the decision is about");
        c.code("decision", decision, EXTRA_FINE_TUNE);
        c.text("detail", detail, Limits.TEXT, true, "e.g. \"accuracy 0.85 < budget 0.88\"");
    }
}
