package dev.shears.scheduler;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.common.events.StepCompleted;
import java.io.IOException;
import java.util.List;
import java.util.Objects;

/**
 * One job's whole state: the record the state machine ({@code Job}) replaces at each transition, the HTTP API shows
 * (without {@code internal}) and the compacted state topic stores as JSON, keyed by job id, so a restarted scheduler
 * carries on from it. Immutable; times are ISO-8601 UTC.
 *
 * <p>Its size is bounded: {@code history} and {@code results} keep the newest entries (the full history is on the
 * commands and reports topics), and {@code historyTrimmed} / {@code resultsTrimmed} count the entries left out.
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
 * @param ended when it reached published, failed or cancelled; null while it runs
 * @param history the newest commands sent and reports read, oldest first: at most {@code Job.HISTORY_LIMIT}, fewer
 *     when the record would grow over its byte bound
 * @param historyTrimmed how many older history entries were left out
 * @param results the newest accepted StepCompleted with the decision taken on each, oldest first: at most
 *     {@code Job.RESULTS_LIMIT}
 * @param resultsTrimmed how many older results were left out
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
        String ended,
        List<HistoryEntry> history,
        long historyTrimmed,
        List<StepResult> results,
        long resultsTrimmed,
        Publication publication,
        String failure,
        Key awaiting,
        Internal internal) {

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public JobSnapshot {
        Objects.requireNonNull(job, "job");
        Objects.requireNonNull(state, "state");
        history = history == null ? List.of() : List.copyOf(history);
        results = results == null ? List.of() : List.copyOf(results);
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

    /**
     * The model a {@code ModelPublished} announced, with its cost dense against published (0: not known, as in a
     * version-1 event or a state written before costs were kept; the fused latencies likewise before version 5);
     * {@code accuracy} is its test accuracy.
     */
    public record Publication(String name, String version, String path, String sha256, double accuracy,
            double sparsity, long denseFlops, long flops, long denseParameters, long parameters, double denseLatencyMs,
            double latencyMs, double denseBatchLatencyMs, double batchLatencyMs, double denseFusedLatencyMs,
            double fusedLatencyMs, double denseFusedBatchLatencyMs, double fusedBatchLatencyMs) {

        static Publication of(dev.shears.common.events.ModelPublished p) {
            return new Publication(p.name(), p.version(), p.path(), p.sha256(), p.accuracy(), p.sparsity(),
                    p.denseFlops(), p.flops(), p.denseParameters(), p.parameters(), p.denseLatencyMs(), p.latencyMs(),
                    p.denseBatchLatencyMs(), p.batchLatencyMs(), p.denseFusedLatencyMs(), p.fusedLatencyMs(),
                    p.denseFusedBatchLatencyMs(), p.fusedBatchLatencyMs());
        }
    }

    /** A command key: ordered by attempt, then seq. */
    public record Key(long seq, int attempt) {
    }

    /**
     * Bookkeeping of the state machine.
     *
     * @param recipeYaml the recipe as sent in JobStarted
     * @param pendingCommand the encoded command whose answer the job waits for, sent again after a retryable failure
     *     or a stall; null when the job waits for none, and for a JobStarted (rebuilt from {@code recipeYaml})
     * @param awaitingSince when the pending command was sent
     * @param position the seq of the worker's checkpoint as far as the scheduler knows
     * @param positionAttempt the attempt of that checkpoint's key (its StepCompleted's, its RollBack's, the one a
     *     JobResumed restored); 0 when not known (a record written before keys were kept)
     * @param lastGoodSeq the last step within budget
     * @param lastGoodTarget its target
     * @param policyActions extra fine-tunes or roll-backs done on the current step
     * @param failureRetries retries of the pending command after retryable failures
     * @param stopAt the step a stop ends the run at, null unless stopped
     * @param resumeExpected the toSeq of a RollBack whose JobResumed is still due while the step after it is pending:
     *     only in records written before the scheduler waited for a roll-back's answer; null if none
     * @param retryTarget the target of the step to send once the pending RollBack is answered (the smaller step of a
     *     {@code rollback} policy), null when none (the next step, or the Finalize of a stop, follows)
     * @param lastCommandSeq the seq of the last command sent
     * @param stallResends how often the pending command was sent again because nothing was heard of it
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Internal(String recipeYaml, String pendingCommand, String awaitingSince, long position,
            int positionAttempt, long lastGoodSeq, double lastGoodTarget, int policyActions, int failureRetries,
            Long stopAt, Long resumeExpected, Double retryTarget, long lastCommandSeq, int stallResends) {

        /** A new job's: nothing sent, nothing accepted. */
        static Internal start(String recipeYaml) {
            return new Internal(recipeYaml, null, null, -1, 0, -1, 0, 0, 0, null, null, null, 0, 0);
        }
    }

    /** This state as the state topic stores it: JSON in UTF-8. */
    byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("the state of job " + job + " does not write as JSON: " + e, e);
        }
    }

    /** How many bytes {@code entry} (a history entry or a result) takes in {@link #toJson()}, its comma included. */
    static int jsonBytes(Object entry) {
        try {
            return JSON.writeValueAsBytes(entry).length + 1;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a state entry does not write as JSON: " + e, e);
        }
    }

    /** The state a state record holds; records written by earlier versions read too (absent fields are 0 or null). */
    static JobSnapshot fromJson(byte[] json) throws IOException {
        return JSON.readValue(json, JobSnapshot.class);
    }

    /** A builder that starts from this state: {@code s.toBuilder().state(JobState.PRUNING).build()}. */
    Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * The next state of a job: this one's values, some of them changed. The bookkeeping of {@link Internal} is set
     * through the same builder.
     */
    static final class Builder {
        private final String job;
        private final int steps;
        private final String submitted;
        private JobState state;
        private long step;
        private int attempt;
        private Double targetSparsity;
        private Double achievedSparsity;
        private Double accuracy;
        private Double testAccuracy;
        private Double denseAccuracy;
        private Double accuracyFloor;
        private String worker;
        private String updated;
        private String ended;
        private List<HistoryEntry> history;
        private long historyTrimmed;
        private List<StepResult> results;
        private long resultsTrimmed;
        private Publication publication;
        private String failure;
        private Key awaiting;
        private final String recipeYaml;
        private String pendingCommand;
        private String awaitingSince;
        private long position;
        private int positionAttempt;
        private long lastGoodSeq;
        private double lastGoodTarget;
        private int policyActions;
        private int failureRetries;
        private Long stopAt;
        private Long resumeExpected;
        private Double retryTarget;
        private long lastCommandSeq;
        private int stallResends;

        private Builder(JobSnapshot s) {
            job = s.job;
            steps = s.steps;
            submitted = s.submitted;
            state = s.state;
            step = s.step;
            attempt = s.attempt;
            targetSparsity = s.targetSparsity;
            achievedSparsity = s.achievedSparsity;
            accuracy = s.accuracy;
            testAccuracy = s.testAccuracy;
            denseAccuracy = s.denseAccuracy;
            accuracyFloor = s.accuracyFloor;
            worker = s.worker;
            updated = s.updated;
            ended = s.ended;
            history = s.history;
            historyTrimmed = s.historyTrimmed;
            results = s.results;
            resultsTrimmed = s.resultsTrimmed;
            publication = s.publication;
            failure = s.failure;
            awaiting = s.awaiting;
            Internal in = s.internal;
            recipeYaml = in.recipeYaml;
            pendingCommand = in.pendingCommand;
            awaitingSince = in.awaitingSince;
            position = in.position;
            positionAttempt = in.positionAttempt;
            lastGoodSeq = in.lastGoodSeq;
            lastGoodTarget = in.lastGoodTarget;
            policyActions = in.policyActions;
            failureRetries = in.failureRetries;
            stopAt = in.stopAt;
            resumeExpected = in.resumeExpected;
            retryTarget = in.retryTarget;
            lastCommandSeq = in.lastCommandSeq;
            stallResends = in.stallResends;
        }

        /** In {@code state}; {@code ended} is when it ended, null while it runs. */
        Builder state(JobState state, String ended) {
            this.state = state;
            this.ended = ended;
            return this;
        }

        /** At the step {@code c} completed, with its figures; the worker's checkpoint is there too. */
        Builder accepted(StepCompleted c) {
            step = c.seq();
            position = c.seq();
            positionAttempt = c.attempt();
            targetSparsity = c.targetSparsity();
            achievedSparsity = c.achievedSparsity();
            accuracy = c.accuracy();
            testAccuracy = c.testAccuracy();
            return this;
        }

        /** Back at the checkpoint of key {@code (attempt, seq)}, restored; attempt 0 when the worker did not say. */
        Builder restoredTo(long seq, int attempt) {
            step = seq;
            position = seq;
            positionAttempt = attempt;
            return this;
        }

        Builder attempt(int attempt) {
            this.attempt = attempt;
            return this;
        }

        Builder dense(double accuracy, Double floor) {
            denseAccuracy = accuracy;
            accuracyFloor = floor;
            return this;
        }

        Builder worker(String worker) {
            this.worker = worker;
            return this;
        }

        Builder updated(String updated) {
            this.updated = updated;
            return this;
        }

        Builder history(List<HistoryEntry> history, long trimmed) {
            this.history = history;
            this.historyTrimmed = trimmed;
            return this;
        }

        Builder results(List<StepResult> results, long trimmed) {
            this.results = results;
            this.resultsTrimmed = trimmed;
            return this;
        }

        Builder publication(Publication publication) {
            this.publication = publication;
            return this;
        }

        Builder failure(String failure) {
            this.failure = failure;
            return this;
        }

        /**
         * Awaiting the report with key {@code key} (null: none) to {@code command} (its encoding; null for a
         * JobStarted, or none) sent at {@code since}, after {@code resends} resends of it.
         */
        Builder awaiting(Key key, String command, String since, int resends) {
            awaiting = key;
            pendingCommand = command;
            awaitingSince = since;
            stallResends = resends;
            return this;
        }

        Builder stallResends(int resends) {
            stallResends = resends;
            return this;
        }

        Builder sent(long seq) {
            lastCommandSeq = seq;
            return this;
        }

        Builder lastGood(long seq, double target) {
            lastGoodSeq = seq;
            lastGoodTarget = target;
            return this;
        }

        Builder policyActions(int actions) {
            policyActions = actions;
            return this;
        }

        Builder failureRetries(int retries) {
            failureRetries = retries;
            return this;
        }

        Builder stopAt(Long seq) {
            stopAt = seq;
            return this;
        }

        Builder resumeExpected(Long seq) {
            resumeExpected = seq;
            return this;
        }

        Builder retryTarget(Double target) {
            retryTarget = target;
            return this;
        }

        JobSnapshot build() {
            return new JobSnapshot(job, state, step, steps, attempt, targetSparsity, achievedSparsity, accuracy,
                    testAccuracy, denseAccuracy, accuracyFloor, worker, submitted, updated, ended, history,
                    historyTrimmed, results,
                    resultsTrimmed, publication, failure, awaiting, new Internal(recipeYaml, pendingCommand,
                            awaitingSince, position, positionAttempt, lastGoodSeq, lastGoodTarget, policyActions,
                            failureRetries, stopAt, resumeExpected, retryTarget, lastCommandSeq, stallResends));
        }
    }
}
