package dev.shears.trainer.worker;

/** Why a command being applied was asked to stop before it finished. */
enum StopReason {
    /** A {@code CancelJob} of its job came behind it: the step is abandoned for good. */
    CANCELLED,
    /** Its partition moved to another worker, which redoes it from the job's checkpoint. */
    REVOKED,
    /** This worker is closing: whichever worker gets the partition next redoes it from the checkpoint. */
    SHUTDOWN;

    /**
     * Whether the command is done with once stopped (its offset committed, nothing applied): a cancelled step is; a
     * step stopped for any other reason is applied again later.
     */
    boolean abandonsCommand() {
        return this == CANCELLED;
    }
}
