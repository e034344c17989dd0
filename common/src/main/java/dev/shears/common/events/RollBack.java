package dev.shears.common.events;

/**
 * Restores the checkpoint of seq {@code toSeq}, discarding the steps after it; the worker reports
 * {@link JobResumed}. Sent with the seq of the newest step it undoes (at least {@code toSeq}).
 *
 * <p>A roll-back starts a new attempt: {@code attempt} is higher than that of every command before
 * it, and the commands after it carry it, so that a redelivered roll-back is recognised once its
 * later steps ran (see {@link PruneStep}).
 *
 * @param toSeq the seq whose checkpoint to restore, in [0, 10000]
 * @param attempt the job's new attempt, at least 2
 * @param reason why, for people: not blank, at most 16,384 bytes of UTF-8
 */
public record RollBack(long toSeq, int attempt, String reason) implements Command {

    /** @throws IllegalArgumentException when a field is out of range */
    public RollBack {
        Check c = new Check("RollBack");
        c.range("toSeq", toSeq, 0, Limits.MAX_STEPS, "the seq of the last good checkpoint, e.g. 3");
        c.range("attempt", attempt, 2, Limits.MAX_ATTEMPT,
                "a roll-back raises the job's attempt: the attempt of the commands before it, plus 1");
        c.text("reason", reason, Limits.TEXT, false, "e.g. \"accuracy 0.81 below the budget 0.88\"");
    }
}
