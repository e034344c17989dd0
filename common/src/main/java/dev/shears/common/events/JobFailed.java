package dev.shears.common.events;

/**
 * A command could not be carried out; nothing of it was applied (the last checkpoint stands).
 * Sent with the command's seq.
 *
 * @param seq the seq of the command that failed, at least 0
 * @param reason what went wrong, for people: not blank, at most 16,384 characters
 * @param worker the worker that failed
 * @param retryable true when sending the same command again may succeed (an I/O error, a lost
 *     worker); false when it cannot (an invalid recipe, a diverged model)
 */
public record JobFailed(long seq, String reason, String worker, boolean retryable) implements Report {

    /** @throws IllegalArgumentException when a field is out of range */
    public JobFailed {
        Check c = new Check("JobFailed");
        c.range("seq", seq, 0, Long.MAX_VALUE, "the seq of the command that failed");
        c.text("reason", reason, Limits.TEXT, false, "e.g. the exception's message");
        c.token("worker", worker, "trainer-0");
    }
}
