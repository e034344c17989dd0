package dev.shears.common.events;

/**
 * The key of a command, {@code (attempt, seq)}: what a worker's checkpoint records of the last command applied, and
 * the order in which a job's commands take effect (by attempt, then seq; see {@code common/EVENTS.md}). On the wire an
 * object {@code {"attempt": 2, "seq": 5}}.
 *
 * @param attempt the command's attempt, in [1, 10^6]
 * @param seq the command's seq (for a {@link RollBack}, its {@code toSeq}), in [0, 10000]
 */
public record CommandKey(int attempt, long seq) implements Comparable<CommandKey> {

    /** @throws IllegalArgumentException when a field is out of range */
    public CommandKey {
        Check c = new Check("CommandKey");
        c.range("attempt", attempt, 1, Limits.MAX_ATTEMPT, "the attempt of the command that led to the checkpoint");
        c.range("seq", seq, 0, Limits.MAX_STEPS, "the seq of the command that led to the checkpoint");
    }

    @Override
    public int compareTo(CommandKey o) {
        return attempt != o.attempt ? Integer.compare(attempt, o.attempt) : Long.compare(seq, o.seq);
    }

    @Override
    public String toString() {
        return "(attempt " + attempt + ", seq " + seq + ")";
    }
}
