package dev.shears.common.events;

import java.util.regex.Pattern;

/**
 * A command could not be carried out; nothing of it was applied (the last checkpoint stands).
 * Sent with the command's seq, naming the command it answers, so that the scheduler tells the
 * failure of a {@link RollBack} from that of the {@link PruneStep} of the same seq, and a failure of
 * a superseded attempt from one of the command it waits for.
 *
 * @param seq the seq of the command that failed, at least 0
 * @param command the type of the command that failed, e.g. {@code RollBack}; empty in an event of
 *     version 1, which did not say
 * @param attempt the attempt of the command that failed (a {@link PruneStep}'s or
 *     {@link RollBack}'s, a {@link Finalize}'s, 1 for {@link JobStarted}), in [0, 10^6]; 0 for a
 *     command without one ({@link CancelJob}) and in an event of version 1
 * @param reason what went wrong, for people: not blank, at most 16,384 bytes of UTF-8
 * @param worker the worker that failed
 * @param retryable true when sending the same command again may succeed (an I/O error, a lost
 *     worker); false when it cannot (an invalid recipe, a diverged model)
 */
public record JobFailed(long seq, String command, int attempt, String reason, String worker, boolean retryable)
        implements
            Report {

    /** The most bytes of UTF-8 a {@code reason} holds. */
    public static final int MAX_REASON_BYTES = Limits.TEXT;

    private static final Pattern TYPE = Pattern.compile("[A-Z][A-Za-z0-9]{0,63}");

    /** @throws IllegalArgumentException when a field is out of range */
    public JobFailed {
        Check c = new Check("JobFailed");
        c.range("seq", seq, 0, Long.MAX_VALUE, "the seq of the command that failed");
        c.present("command", command);
        if (!command.isEmpty() && !TYPE.matcher(command).matches()) {
            throw c.fail("command", command, "is not an event type: must match [A-Z][A-Za-z0-9]{0,63}, or be empty"
                    + " (fix: the type of the command that failed, e.g. PruneStep)");
        }
        c.range("attempt", attempt, 0, command.isEmpty() ? 0 : Limits.MAX_ATTEMPT, command.isEmpty()
                ? "0 when the command is not named" : "the attempt of the command that failed, 0 when it has none");
        c.text("reason", reason, Limits.TEXT, false, "e.g. the exception's message, its first lines");
        c.token("worker", worker, "trainer-0");
    }

    /**
     * The failure of {@code command}, named by its type and attempt.
     *
     * @throws IllegalArgumentException when a field is out of range
     */
    public static JobFailed of(Event command, String reason, String worker, boolean retryable) {
        return new JobFailed(command.seq(), command.type(), attemptOf(command.payload()), reason, worker, retryable);
    }

    /**
     * The attempt a command carries: a {@link PruneStep}'s, a {@link RollBack}'s, a {@link Finalize}'s; 1 for
     * {@link JobStarted}; 0 for anything else.
     */
    public static int attemptOf(Payload command) {
        if (command instanceof PruneStep p) {
            return p.attempt();
        } else if (command instanceof RollBack r) {
            return r.attempt();
        } else if (command instanceof Finalize f) {
            return f.attempt();
        } else if (command instanceof JobStarted) {
            return 1;
        }
        return 0;
    }

    /**
     * Whether this failure answers {@code command}: the same seq, and, when the failure names its command (every
     * event of version 2 does), the same type and attempt.
     */
    public boolean answers(Event command) {
        return seq == command.seq() && (this.command.isEmpty()
                || this.command.equals(command.type()) && attempt == attemptOf(command.payload()));
    }
}
