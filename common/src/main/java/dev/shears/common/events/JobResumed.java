package dev.shears.common.events;

import java.util.List;
import java.util.Optional;

/**
 * A worker restored a checkpoint: after a restart, after falling back to an older checkpoint
 * whose checksum held, or for a {@link RollBack}. Sent with seq = {@code restoredSeq}.
 *
 * <p>It names the key of the checkpoint restored and the keys whose checkpoints were found damaged
 * and set aside: their commands were applied and their effect lost, and the worker applies no
 * command of their attempts again. When the scheduler finds that the restore lost what it had
 * accepted (a checkpoint below the last it accepted, or any key lost), it sends what was lost again
 * under a new attempt: the steps after the checkpoint, or the extra fine-tune or roll-back whose
 * checkpoint was lost.
 *
 * @param restoredSeq the seq of the checkpoint restored, in [0, 10000]
 * @param restoredAttempt the attempt of that checkpoint's key, in [1, 10^6]; 0 in an event of
 *     version 1, which did not say
 * @param stepsRedone completed steps the restore discarded, which must run again, at least 0
 * @param lost the keys of the checkpoints found damaged by this restore, oldest first, each above
 *     the key restored; at most 1,000 (the newest); empty when nothing was lost, for a
 *     {@link RollBack}, and in an event of version 1
 * @param resumedIteration when a step after the checkpoint restored was interrupted (the worker applying it crashed
 *     or stopped): the iteration of that step its mid-step checkpoint holds, which its training goes on from when the
 *     command is applied again; 0 when it starts over (no mid-step checkpoint), and in events before version 4
 * @param iterationsLost the iterations of that interrupted step trained past {@code resumedIteration} and lost, to
 *     be trained again: as far as the interrupted worker noted them (every few seconds), so at least this many; 0 when
 *     none, and in events before version 4
 * @param worker the worker that restored
 */
public record JobResumed(long restoredSeq, int restoredAttempt, long stepsRedone, List<CommandKey> lost,
        long resumedIteration, long iterationsLost, String worker) implements Report {

    /** The most lost keys one event lists. */
    public static final int MAX_LOST = 1000;

    /** @throws IllegalArgumentException when a field is out of range */
    public JobResumed {
        Check c = new Check("JobResumed");
        c.range("restoredSeq", restoredSeq, 0, Limits.MAX_STEPS, "the seq recorded in the restored checkpoint");
        c.range("restoredAttempt", restoredAttempt, 0, Limits.MAX_ATTEMPT,
                "the attempt recorded in the restored checkpoint");
        c.range("stepsRedone", stepsRedone, 0, Long.MAX_VALUE, "0 when nothing was lost");
        c.range("resumedIteration", resumedIteration, 0, Long.MAX_VALUE, "0 when no step goes on mid-way");
        c.range("iterationsLost", iterationsLost, 0, Long.MAX_VALUE, "0 when no iteration was lost");
        c.present("lost", lost);
        lost = List.copyOf(lost);
        if (lost.size() > MAX_LOST) {
            throw c.fail("lost", lost.size() + " keys", "is too long: at most " + MAX_LOST
                    + " (fix: list the newest " + MAX_LOST + ")");
        }
        for (int i = 0; i < lost.size(); i++) {
            CommandKey k = lost.get(i);
            if (restoredAttempt == 0 || k.compareTo(new CommandKey(restoredAttempt, restoredSeq)) <= 0
                    || i > 0 && k.compareTo(lost.get(i - 1)) <= 0) {
                throw c.fail("lost[" + i + "]", k.toString(), "is not above the key restored and the keys before it"
                        + " (fix: the keys of the damaged checkpoints newer than the one restored, oldest first)");
            }
        }
        c.token("worker", worker, "trainer-0");
    }

    /** A restore with no step going on mid-way ({@code resumedIteration} and {@code iterationsLost} 0). */
    public JobResumed(long restoredSeq, int restoredAttempt, long stepsRedone, List<CommandKey> lost, String worker) {
        this(restoredSeq, restoredAttempt, stepsRedone, lost, 0, 0, worker);
    }

    /** A restore that lost nothing it names, of the checkpoint with key {@code restored}. */
    public static JobResumed of(CommandKey restored, long stepsRedone, String worker) {
        return new JobResumed(restored.seq(), restored.attempt(), stepsRedone, List.of(), worker);
    }

    /** The key of the checkpoint restored; empty when the event did not say (version 1). */
    public Optional<CommandKey> restored() {
        return restoredAttempt == 0 ? Optional.empty()
                : Optional.of(new CommandKey(restoredAttempt, restoredSeq));
    }
}
