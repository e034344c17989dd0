package dev.shears.scheduler;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;
import java.util.Objects;

/**
 * One job's whole state at one moment: what the HTTP API shows and what the compacted state topic
 * stores (keyed by job id), so a restarted scheduler carries on from it. Times are ISO-8601 UTC.
 *
 * @param job the job id, the recipe's {@code job}
 * @param state where the job is
 * @param step the last accepted seq (0 dense, k schedule step), -1 before any
 * @param steps the schedule's number of steps
 * @param attempt the job's attempt, from 1, raised by every redo
 * @param targetSparsity the target of the last accepted step, null before any
 * @param achievedSparsity what the last accepted step achieved, null before any
 * @param accuracy the last accepted step's validation accuracy (what the accuracy budget reads), null before any
 * @param testAccuracy the last accepted step's test accuracy (reported only), null before any
 * @param denseAccuracy seq 0's validation accuracy, null before it
 * @param accuracyFloor the lowest accuracy the recipe's budget accepts, null while it depends on a dense accuracy not
 *     known yet
 * @param worker the worker that reported last, null before any
 * @param submitted when the job was submitted
 * @param updated when it last changed
 * @param history the newest {@link Job#HISTORY_LIMIT} commands sent and reports read, oldest first
 * @param results every accepted StepCompleted with the decision taken on it, oldest first
 * @param publication the published model, null before
 * @param failure why the job failed, null unless failed
 * @param awaiting the key of the report the job waits for, null when it waits for none
 * @param internal the state machine's bookkeeping, opaque outside the package
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record JobSnapshot(
        String job,
        JobState state,
        long step,
        int steps,
        int attempt,
        Double targetSparsity,
        Double achievedSparsity,
        Double accuracy,
        Double testAccuracy,
        Double denseAccuracy,
        Double accuracyFloor,
        String worker,
        String submitted,
        String updated,
        List<HistoryEntry> history,
        List<StepResult> results,
        Publication publication,
        String failure,
        Key awaiting,
        Internal internal) {

    public JobSnapshot {
        Objects.requireNonNull(job, "job");
        Objects.requireNonNull(state, "state");
        history = List.copyOf(history);
        results = List.copyOf(results);
        Objects.requireNonNull(internal, "internal");
    }

    /**
     * One command sent or report read.
     *
     * @param direction {@code command} or {@code report}
     * @param type the event type, e.g. {@code PruneStep}
     * @param attempt the command's or StepCompleted's attempt; null for events without one
     * @param detail a short summary: target/achieved sparsity, accuracy, decision, reason
     * @param accepted false for a report that was ignored (duplicate, superseded, too late)
     */
    public record HistoryEntry(String time, String direction, String type, long seq, Integer attempt, String detail,
            boolean accepted) {
    }

    /**
     * An accepted StepCompleted and what the accuracy budget made of it.
     *
     * @param accuracy the validation accuracy, which the budget judged
     * @param testAccuracy the test accuracy, reported only; null in rows stored before it was reported
     * @param decision {@code dense} for seq 0, {@code ok}, or the decision code: {@code extra_fine_tune},
     *     {@code rollback}, {@code stop}
     */
    public record StepResult(long seq, int attempt, double targetSparsity, double achievedSparsity, double accuracy,
            Double testAccuracy, String decision) {
    }

    /** The model a {@code ModelPublished} announced; {@code accuracy} is its test accuracy. */
    public record Publication(String name, String version, String path, String sha256, double accuracy,
            double sparsity) {
    }

    /** A command key: ordered by attempt, then seq. */
    public record Key(long seq, int attempt) {
    }

    /**
     * Bookkeeping of the state machine.
     *
     * @param recipeYaml the recipe as sent in JobStarted
     * @param pendingCommand the encoded command whose answer the job waits for, resent after a retryable failure
     * @param awaitingSince when it was sent
     * @param position the seq of the worker's checkpoint as far as the scheduler knows
     * @param lastGoodSeq the last step within budget
     * @param lastGoodTarget its target
     * @param policyActions extra fine-tunes or roll-backs done on the current step
     * @param failureRetries retries of the pending command after retryable failures
     * @param stopAt the step a stop ends the run at, null unless stopped
     * @param resumeExpected the toSeq of a RollBack whose JobResumed is still due, null if none
     * @param lastCommandSeq the seq of the last command sent
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Internal(String recipeYaml, String pendingCommand, String awaitingSince, long position,
            long lastGoodSeq, double lastGoodTarget, int policyActions, int failureRetries, Long stopAt,
            Long resumeExpected, long lastCommandSeq) {
    }
}
