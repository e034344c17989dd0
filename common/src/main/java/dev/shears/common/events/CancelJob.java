package dev.shears.common.events;

/**
 * Stops a job where it is: the worker abandons the step in progress, keeps the checkpoints and
 * publishes nothing. Sent with the seq of the last command sent before it. Idempotent.
 *
 * @param reason why, for people: not blank, at most 16,384 bytes of UTF-8
 */
public record CancelJob(String reason) implements Command {

    /** @throws IllegalArgumentException when {@code reason} is blank, too long or has control characters */
    public CancelJob {
        new Check("CancelJob").text("reason", reason, Limits.TEXT, false, "e.g. \"cancelled by alice\"");
    }
}
