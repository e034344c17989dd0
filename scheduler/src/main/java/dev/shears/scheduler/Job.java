package dev.shears.scheduler;

import dev.shears.common.events.CancelJob;
import dev.shears.common.events.CommandKey;
import dev.shears.common.events.Command;
import dev.shears.common.events.Decoded;
import dev.shears.common.events.Event;
import dev.shears.common.events.EventCodec;
import dev.shears.common.events.Finalize;
import dev.shears.common.events.JobFailed;
import dev.shears.common.events.JobProgress;
import dev.shears.common.events.JobResumed;
import dev.shears.common.events.JobStarted;
import dev.shears.common.events.ModelPublished;
import dev.shears.common.events.Payload;
import dev.shears.common.events.PruneStep;
import dev.shears.common.events.Report;
import dev.shears.common.events.RollBack;
import dev.shears.common.events.SchedulerDecision;
import dev.shears.common.events.StepCompleted;
import dev.shears.common.policy.BudgetPolicy;
import dev.shears.common.policy.BudgetPolicy.Verdict;
import dev.shears.common.recipe.Recipe;
import dev.shears.common.schedule.Schedule;
import dev.shears.common.schedule.SchedulePoint;
import dev.shears.common.text.Utf8;
import dev.shears.scheduler.JobSnapshot.HistoryEntry;
import dev.shears.scheduler.JobSnapshot.Internal;
import dev.shears.scheduler.JobSnapshot.Key;
import dev.shears.scheduler.JobSnapshot.Publication;
import dev.shears.scheduler.JobSnapshot.StepResult;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * One job's state machine, as {@code common/EVENTS.md} specifies the scheduler: it takes a report
 * (or a submit, a cancel, a stall) and answers with the commands to send, in order, replacing its
 * state, one {@link JobSnapshot} record. No Kafka, no clock but the one given. Not thread-safe: one
 * thread owns all jobs.
 *
 * <p>The loop is closed: the next command goes out only after the awaited {@code StepCompleted},
 * the one whose {@code (seq, attempt)} is the key of the pending command, or after the
 * {@code JobResumed} of a pending {@code RollBack}; every other one is ignored, and a
 * {@code JobFailed} counts only when it answers the pending command (its type, attempt and seq).
 * Command keys never decrease; they repeat only where the contract says so (a retry after a
 * retryable failure or a stall, and the PruneStep that follows its RollBack). A restore that lost
 * what the job had accepted (a {@code JobResumed} below its position, or naming lost keys) is
 * recovered under a new attempt: the steps after the checkpoint restored, or the extra fine-tune or
 * roll-back whose checkpoint was lost.
 *
 * <p>The state is bounded in bytes ({@link #stateRecord()}): a history detail keeps at most
 * {@link #TEXT_BYTES} of UTF-8, and a record over {@link #STATE_BYTES} loses its oldest history
 * entries, then its oldest results.
 */
final class Job {

    /** History entries kept per job; older ones are dropped (and counted). */
    static final int HISTORY_LIMIT = 500;
    /** Results kept per job. */
    static final int RESULTS_LIMIT = 2000;
    /** How often a command is sent again after retryable failures before the job fails. */
    static final int MAX_FAILURE_RETRIES = 5;
    /** The most UTF-8 bytes a history entry's detail keeps. */
    static final int TEXT_BYTES = 1000;
    /** The most UTF-8 bytes a failure's reason keeps. */
    static final int FAILURE_BYTES = 4096;
    /** A state record over this many bytes of JSON is trimmed (see {@link #stateRecord()}). */
    static final int STATE_BYTES = 768 * 1024;
    /** What trimming brings a state record down to, so that the writes after it need none. */
    static final int TRIMMED_STATE_BYTES = 640 * 1024;
    /**
     * The most bytes a new job's state record may take: the recipe must leave room for history,
     * results, publication and failure under {@link #TRIMMED_STATE_BYTES}.
     */
    static final int NEW_STATE_BYTES = 512 * 1024;
    /** History entries that trimming keeps at least. */
    static final int MIN_HISTORY = 20;

    private static final EventCodec CODEC = new EventCodec();

    /** What a report or action did to the job. */
    enum Disposition {
        ACCEPTED, DUPLICATE, SUPERSEDED, IGNORED
    }

    /**
     * The result of one input.
     *
     * @param commands the events to send to the commands topic, in order
     * @param disposition what became of the report (ACCEPTED for actions)
     * @param stepDuration for an accepted StepCompleted: from its command sent to now
     * @param persist whether the job's state changed enough to be written
     */
    record Outcome(List<Event> commands, Disposition disposition, Duration stepDuration, boolean persist) {
        Outcome {
            commands = List.copyOf(commands);
        }
    }

    private final Clock clock;
    private JobSnapshot s;
    /** The recipe of {@code s}, parsed when first needed: an ended job never needs it. */
    private Recipe recipe;
    private List<SchedulePoint> points;
    /** The command of {@code s.internal()} decoded, null when none is pending. */
    private Event pending;
    /** When a report last showed the pending command moving; not stored, it starts again at a restore. */
    private Instant lastHeard;

    private Job(JobSnapshot s, Recipe recipe, Event pending, Clock clock) {
        this.s = s;
        this.recipe = recipe;
        this.pending = pending;
        this.clock = clock;
        this.lastHeard = clock.instant();
    }

    /** A new job for {@code recipe}, in state {@code submitted} once {@link #start()} has run. */
    static Job submit(Recipe recipe, Clock clock) {
        String now = clock.instant().toString();
        double floor = recipe.accuracyBudget().floor(Double.NaN);
        int steps = Schedule.of(recipe.schedule()).points().size();
        JobSnapshot s = new JobSnapshot(recipe.job(), JobState.SUBMITTED, -1, steps, 1, null, null, null, null, null,
                Double.isNaN(floor) ? null : floor, null, now, now, null, List.of(), 0, List.of(), 0, null, null, null,
                Internal.start(recipe.toYaml()));
        return new Job(s, recipe, null, clock);
    }

    /**
     * The job whose state {@code s} is, carrying on from it. The recipe of a running job is read now, of an ended one
     * when first needed (never, unless it is trimmed).
     *
     * @throws IllegalArgumentException when the state's recipe or pending command no longer reads
     */
    static Job restore(JobSnapshot s, Clock clock) {
        Recipe recipe = s.state().ended() ? null : Recipe.parse(s.internal().recipeYaml());
        Event pending = null;
        String command = s.internal().pendingCommand();
        if (command != null) {
            Decoded d = CODEC.decode(command.getBytes(StandardCharsets.UTF_8));
            if (!(d instanceof Decoded.Accepted a)) {
                throw new IllegalArgumentException("job " + s.job() + ": stored pending command does not decode: " + d);
            }
            pending = a.event();
        } else if (s.awaiting() != null) {
            pending = Event.of(s.job(), 0, Instant.parse(s.internal().awaitingSince()),
                    new JobStarted(s.internal().recipeYaml(), s.steps()));
        }
        return new Job(s, recipe, pending, clock);
    }

    /** The JobStarted that begins the job (seq 0, attempt 1). */
    Outcome start() {
        List<Event> out = new ArrayList<>();
        send(out, 0, new JobStarted(s.internal().recipeYaml(), s.steps()), true);
        return accepted(out, null);
    }

    String id() {
        return s.job();
    }

    JobState state() {
        return s.state();
    }

    /** The whole state, as the API shows it and the state topic stores it. */
    JobSnapshot snapshot() {
        return s;
    }

    /** When a report last showed the pending command moving (or the job was submitted or restored). */
    Instant lastHeard() {
        return lastHeard;
    }

    /**
     * The state as the state topic's record: JSON of at most {@link #STATE_BYTES}. A larger record is trimmed
     * first, to {@link #TRIMMED_STATE_BYTES}: the oldest history entries go (down to {@link #MIN_HISTORY}), then the
     * oldest results (down to the recipe's retained checkpoints plus one, whose targets a redo may need); the trim
     * stays in the state and is counted in {@code historyTrimmed} and {@code resultsTrimmed}.
     */
    byte[] stateRecord() {
        byte[] json = s.toJson();
        if (json.length <= STATE_BYTES) {
            return json;
        }
        long excess = json.length - TRIMMED_STATE_BYTES;
        List<HistoryEntry> history = s.history();
        int h = 0;
        while (excess > 0 && history.size() - h > MIN_HISTORY) {
            excess -= JobSnapshot.jsonBytes(history.get(h++));
        }
        List<StepResult> results = s.results();
        int r = 0;
        int keep = s.state().ended() ? 1 : recipe().checkpoints().keepLast() + 1;
        while (excess > 0 && results.size() - r > keep) {
            excess -= JobSnapshot.jsonBytes(results.get(r++));
        }
        s = s.toBuilder().history(history.subList(h, history.size()), s.historyTrimmed() + h)
                .results(results.subList(r, results.size()), s.resultsTrimmed() + r).build();
        return s.toJson();
    }

    /**
     * Cancels the job: a CancelJob with the seq of the last command sent; every later report is ignored.
     *
     * @throws IllegalStateException when the job has already ended
     */
    Outcome cancel(String reason) {
        if (s.state().ended()) {
            throw new IllegalStateException("job " + id() + " is already " + s.state().label()
                    + ": only a running job can be cancelled (fix: submit it again under a new job name to rerun it)");
        }
        List<Event> out = new ArrayList<>();
        send(out, s.internal().lastCommandSeq(), new CancelJob(reason), false);
        end(JobState.CANCELLED);
        return accepted(out, null);
    }

    /**
     * What to do about a pending command that nothing was heard of for {@code timeout}: no JobProgress of its seq,
     * no StepCompleted, JobFailed or JobResumed. Up to {@code resends} times it is sent again under the same key,
     * which is safe whatever the worker did (one that applied it acknowledges it again, one that did not applies it
     * once; a new attempt would not be: a PruneStep of the seq a worker already applied, under a higher attempt, is an
     * extra fine-tune). After that the job fails, and a CancelJob tells a worker that still holds it to let it go.
     * Each is a {@link SchedulerDecision} ({@code resend}, {@code stalled}).
     *
     * @return the outcome, or null when the job is not stalled (or has ended, or waits for nothing)
     */
    Outcome stalled(Duration timeout, int resends) {
        Instant now = clock.instant();
        if (pending == null || s.state().ended() || lastHeard.plus(timeout).isAfter(now)) {
            return null;
        }
        List<Event> out = new ArrayList<>();
        Event stuck = pending;
        int attempt = stuck.payload() instanceof PruneStep p ? p.attempt() : s.attempt();
        String what = String.format(Locale.ROOT, "nothing heard of %s seq %d attempt %d for %d s", stuck.type(),
                stuck.seq(), attempt, Duration.between(lastHeard, now).toSeconds());
        int done = s.internal().stallResends();
        lastHeard = now;
        if (done < resends) {
            decide(out, stuck.seq(), SchedulerDecision.RESEND, what + "; sent again with the same key (resend "
                    + (done + 1) + " of " + resends + ")");
            send(out, stuck.seq(), (Command) stuck.payload(), true);
            s = s.toBuilder().stallResends(done + 1).build();
            return accepted(out, null);
        }
        String why = what + " after " + resends + " resend(s): the job fails (fix: check that workers run and read"
                + " the commands topic; submit the job again under a new name)";
        decide(out, stuck.seq(), SchedulerDecision.STALLED, why);
        send(out, s.internal().lastCommandSeq(), new CancelJob("failed by the scheduler: " + what), false);
        end(JobState.FAILED);
        s = s.toBuilder().failure(cutUtf8(why, FAILURE_BYTES)).build();
        return accepted(out, null);
    }

    /** Takes one report for this job (reports of other jobs are the caller's mistake). */
    Outcome onReport(Event event) {
        if (!event.jobId().equals(id())) {
            throw new IllegalArgumentException("report for job " + event.jobId() + " given to job " + id());
        }
        Payload payload = event.payload();
        if (s.state().ended()) {
            return ignored(event, Disposition.IGNORED, "ignored: the job is " + s.state().label());
        }
        boolean heard = !(payload instanceof JobProgress p) || (pending != null && p.seq() == pending.seq());
        boolean wasStalled = s.internal().stallResends() > 0;
        if (heard) {
            lastHeard = clock.instant();
            if (wasStalled) {
                s = s.toBuilder().stallResends(0).build();
            }
        }
        if (payload instanceof StepCompleted c) {
            return onStepCompleted(event, c);
        } else if (payload instanceof JobFailed f) {
            return onFailed(event, f);
        } else if (payload instanceof JobResumed r) {
            return onResumed(event, r);
        } else if (payload instanceof ModelPublished p) {
            return onPublished(event, p);
        } else if (payload instanceof JobProgress p) {
            return onProgress(p, heard && wasStalled);
        }
        return ignored(event, Disposition.IGNORED, "ignored: " + event.type() + " is not a report");
    }

    private Outcome onStepCompleted(Event event, StepCompleted c) {
        s = s.toBuilder().worker(c.worker()).build();
        Key awaited = awaitedStep();
        if (awaited == null || awaited.seq() != c.seq() || awaited.attempt() != c.attempt()) {
            boolean duplicate = c.redelivered() || s.results().stream()
                    .anyMatch(r -> r.seq() == c.seq() && r.attempt() == c.attempt());
            String why = awaited == null ? "no step awaited"
                    : "awaiting seq " + awaited.seq() + " attempt " + awaited.attempt();
            return ignored(event, duplicate ? Disposition.DUPLICATE : Disposition.SUPERSEDED,
                    (duplicate ? "ignored duplicate: " : "ignored superseded: ") + why + "; " + summary(c));
        }
        Instant since = Instant.parse(s.internal().awaitingSince());
        Duration took = Duration.between(since, clock.instant());
        s = s.toBuilder().accepted(c).failureRetries(0).build();
        clearPending();
        List<Event> out = new ArrayList<>();
        if (c.seq() == 0) {
            double floor = recipe().accuracyBudget().floor(c.accuracy());
            s = s.toBuilder().dense(c.accuracy(), Double.isNaN(floor) ? null : floor).lastGood(0, 0).build();
            record(event, true, summary(c) + ", dense");
            result(c, "dense");
            next(out);
            return accepted(out, took);
        }
        Internal in = s.internal();
        Verdict verdict = BudgetPolicy.decide(recipe().accuracyBudget(), c.accuracy(), s.denseAccuracy(),
                in.policyActions());
        record(event, true, summary(c) + ", " + verdict.code());
        result(c, verdict.code());
        String miss = String.format(Locale.ROOT, "validation accuracy %.4f below the budget (%s) at seq %d attempt %d",
                c.accuracy(), budgetText(), c.seq(), c.attempt());
        int maxRetries = recipe().accuracyBudget().maxRetries();
        switch (verdict) {
            case ACCEPT -> {
                s = s.toBuilder().lastGood(c.seq(), c.targetSparsity()).policyActions(0).build();
                next(out);
            }
            case EXTRA_FINE_TUNE -> {
                s = s.toBuilder().attempt(s.attempt() + 1).policyActions(in.policyActions() + 1).build();
                long extra = recipe().accuracyBudget().extraIterations()
                        .orElse(recipe().fineTune().iterationsPerStep());
                decide(out, c.seq(), SchedulerDecision.EXTRA_FINE_TUNE, miss + "; extra fine-tune "
                        + s.internal().policyActions() + " of " + maxRetries + ", " + extra + " iterations");
                send(out, c.seq(), new PruneStep((int) c.seq(), c.targetSparsity(), extra, false, s.attempt()), true);
            }
            case ROLLBACK -> {
                s = s.toBuilder().attempt(s.attempt() + 1).policyActions(in.policyActions() + 1).build();
                double smaller = BudgetPolicy.smallerStep(in.lastGoodTarget(), c.targetSparsity());
                decide(out, c.seq(), SchedulerDecision.ROLLBACK, miss + String.format(Locale.ROOT,
                        "; roll back to seq %d, retry %d of %d with target %.4f", in.lastGoodSeq(),
                        s.internal().policyActions(), maxRetries, smaller));
                rollBack(out, c.seq(), miss, smaller);
            }
            case STOP -> stop(out, c.seq(), miss);
        }
        return accepted(out, took);
    }

    private Outcome onFailed(Event event, JobFailed f) {
        s = s.toBuilder().worker(f.worker()).build();
        if (pending == null || !f.answers(pending)) {
            String of = f.command().isEmpty() ? "seq " + f.seq() : f.command() + " seq " + f.seq() + " attempt "
                    + f.attempt();
            return ignored(event, Disposition.IGNORED, "ignored: the failure of " + of
                    + ", not of the pending command; " + f.reason());
        }
        List<Event> out = new ArrayList<>();
        int retries = s.internal().failureRetries();
        if (f.retryable() && retries < MAX_FAILURE_RETRIES) {
            s = s.toBuilder().failureRetries(retries + 1).build();
            record(event, true, "retryable: " + f.reason());
            decide(out, f.seq(), SchedulerDecision.RETRY, "retry " + (retries + 1) + " of " + MAX_FAILURE_RETRIES
                    + " after: " + f.reason());
            send(out, pending.seq(), (Command) pending.payload(), true);
            return accepted(out, null);
        }
        record(event, true, (f.retryable() ? "retryable, out of retries: " : "not retryable: ") + f.reason());
        end(JobState.FAILED);
        s = s.toBuilder().failure(cutUtf8(f.reason(), FAILURE_BYTES)).build();
        return accepted(out, null);
    }

    private Outcome onResumed(Event event, JobResumed r) {
        s = s.toBuilder().worker(r.worker()).build();
        Internal in = s.internal();
        List<Event> out = new ArrayList<>();
        if (pending != null && pending.payload() instanceof RollBack back && r.lost().isEmpty()
                && r.restoredSeq() == back.toSeq()
                && (r.restoredAttempt() == 0 || r.restoredAttempt() == back.attempt())) {
            clearPending();
            s = s.toBuilder().restoredTo(back.toSeq(), back.attempt()).retryTarget(null).build();
            record(event, true, "restored seq " + back.toSeq() + " as asked by RollBack");
            if (in.retryTarget() != null) {
                int k = (int) back.toSeq() + 1;
                send(out, k, new PruneStep(k, in.retryTarget(), recipe().fineTune().iterationsPerStep(),
                        points().get(k - 1).rewind(), s.attempt()), true);
                s = s.toBuilder().state(JobState.PRUNING, null).build();
            } else {
                next(out);
            }
            return accepted(out, null);
        }
        if (in.resumeExpected() != null && in.resumeExpected() == r.restoredSeq()) {
            s = s.toBuilder().resumeExpected(null).build(); // a record of before: the step after it is sent already
            record(event, true, "restored seq " + r.restoredSeq() + " as asked by RollBack");
            return accepted(out, null);
        }
        if (!lostAccepted(r, in)) {
            record(event, true, "restored " + restoredText(r) + ", nothing lost");
            if (s.state() == JobState.SUBMITTED) {
                s = s.toBuilder().state(JobState.PRETRAINING, null).build();
            }
            return accepted(out, null);
        }
        recover(out, event, r);
        return accepted(out, null);
    }

    /**
     * Whether a restore the job did not ask for lost what it had accepted, or spent a key it would send: any key lost
     * (the worker applies no command of a lost key's attempt again), or a checkpoint below its position's key (by seq
     * when the state does not know the position's attempt). A worker of version 1 says no keys: then a checkpoint
     * below the position, or at it while the awaited step was applied and then found damaged ({@code stepsRedone}).
     */
    private boolean lostAccepted(JobResumed r, Internal in) {
        Optional<CommandKey> restored = r.restored();
        if (restored.isPresent()) {
            return !r.lost().isEmpty() || (in.positionAttempt() > 0
                    ? restored.get().compareTo(new CommandKey(in.positionAttempt(), in.position())) < 0
                    : r.restoredSeq() < in.position());
        }
        return r.restoredSeq() < in.position() || r.stepsRedone() > 0 && r.restoredSeq() == in.position()
                && pending != null && pending.payload() instanceof PruneStep;
    }

    /**
     * Sends again, under a new attempt above every key lost, what takes the worker from the checkpoint it restored to
     * where the job was, judging that checkpoint as the accuracy budget did: one it accepted (or that it cannot tell)
     * goes on with the next step; one it sent an extra fine-tune after gets that fine-tune again; one it rolled back
     * from is rolled back again, to the last step within budget before it.
     */
    private void recover(List<Event> out, Event event, JobResumed r) {
        Internal in = s.internal();
        long seq = r.restoredSeq();
        int lostAttempt = r.lost().stream().mapToInt(CommandKey::attempt).max().orElse(0);
        int attempt = Math.max(Math.max(s.attempt(), lostAttempt), r.restoredAttempt()) + 1;
        StepResult judged = r.restoredAttempt() == 0 ? null : resultAt(seq, r.restoredAttempt());
        String decision = judged == null ? "ok" : judged.decision();
        long lost = Math.max(0, in.position() - seq);
        record(event, true, "restored " + restoredText(r) + (r.lost().isEmpty() ? "" : ", lost " + r.lost()) + ": "
                + (lost > 0 ? lost + " accepted step(s) lost" : "the command of a lost key goes again")
                + ", sending again");
        s = s.toBuilder().attempt(attempt).restoredTo(seq, r.restoredAttempt()).failureRetries(0).retryTarget(null)
                .resumeExpected(null).build();
        String what = "worker " + r.worker() + " restored " + restoredText(r) + (r.lost().isEmpty() ? ""
                : ", lost " + r.lost()) + "; attempt " + attempt + ": ";
        switch (decision) {
            case "extra_fine_tune" -> {
                StepResult good = lastGoodBefore(seq, r.restoredAttempt());
                int actions = (int) s.results().stream().filter(x -> x.seq() == seq
                        && x.attempt() <= r.restoredAttempt() && x.decision().equals("extra_fine_tune")).count();
                s = s.toBuilder().lastGood(good.seq(), good.targetSparsity()).policyActions(actions).build();
                long extra = recipe().accuracyBudget().extraIterations()
                        .orElse(recipe().fineTune().iterationsPerStep());
                decide(out, seq, SchedulerDecision.REDO, what + "its checkpoint is the one the budget refused, the"
                        + " extra fine-tune after it is sent again, " + extra + " iterations");
                send(out, seq, new PruneStep((int) seq, judged.targetSparsity(), extra, false, attempt), true);
                s = s.toBuilder().state(JobState.PRUNING, null).build();
            }
            case "rollback", "stop" -> {
                StepResult good = lastGoodBefore(seq, r.restoredAttempt());
                Double retry = decision.equals("rollback")
                        ? BudgetPolicy.smallerStep(good.targetSparsity(), judged.targetSparsity()) : null;
                s = s.toBuilder().lastGood(good.seq(), good.targetSparsity()).build();
                decide(out, seq, SchedulerDecision.REDO, what + "its checkpoint is one the budget refused, the"
                        + " roll-back from it is sent again, to seq " + good.seq());
                rollBack(out, seq, "the roll-back from seq " + seq + " was lost with its checkpoint; again to seq "
                        + good.seq(), retry);
            }
            default -> {
                double target = judged != null ? judged.targetSparsity() : targetUsed(seq);
                s = s.toBuilder().lastGood(seq, target).policyActions(0).build();
                decide(out, seq + 1, SchedulerDecision.REDO, what + (lost > 0 ? lost + " step(s) lost"
                        : "the command of a lost key") + ", sent again from seq " + (seq + 1));
                next(out);
            }
        }
    }

    /** The newest result of step {@code seq} under {@code attempt} or an earlier one; null when none is kept. */
    private StepResult resultAt(long seq, int attempt) {
        StepResult found = null;
        for (StepResult x : s.results()) {
            if (x.seq() == seq && x.attempt() <= attempt && (found == null || x.attempt() >= found.attempt())) {
                found = x;
            }
        }
        return found;
    }

    /** The newest step within budget before {@code seq} (under {@code attempt} or before), the dense model if none. */
    private StepResult lastGoodBefore(long seq, int attempt) {
        StepResult found = new StepResult(0, 1, 0, 0, 0, null, "dense");
        for (StepResult x : s.results()) {
            if (x.seq() < seq && x.attempt() <= attempt && (x.decision().equals("ok") || x.decision().equals("dense"))
                    && (x.attempt() > found.attempt() || x.attempt() == found.attempt() && x.seq() >= found.seq())) {
                found = x;
            }
        }
        return found;
    }

    private static String restoredText(JobResumed r) {
        return r.restored().map(CommandKey::toString).orElse("seq " + r.restoredSeq())
                + (r.resumedIteration() == 0 && r.iterationsLost() == 0 ? "" : " (the interrupted step goes on from"
                        + " iteration " + r.resumedIteration() + ", " + r.iterationsLost() + " iterations lost)");
    }

    private Outcome onPublished(Event event, ModelPublished p) {
        if (s.state() != JobState.FINALIZING || pending == null || pending.seq() != event.seq()) {
            return ignored(event, Disposition.DUPLICATE, "ignored: no Finalize awaits seq " + event.seq());
        }
        record(event, true, String.format(Locale.ROOT, "%s %s sparsity %.4f test accuracy %.4f sha256 %s", p.name(),
                p.version(), p.sparsity(), p.accuracy(), p.sha256()));
        end(JobState.PUBLISHED);
        s = s.toBuilder().publication(Publication.of(p)).build();
        return accepted(List.of(), null);
    }

    private Outcome onProgress(JobProgress p, boolean stallCleared) {
        s = s.toBuilder().worker(p.worker()).build();
        if (s.state() == JobState.SUBMITTED && p.seq() == 0) {
            s = s.toBuilder().state(JobState.PRETRAINING, null).updated(clock.instant().toString()).build();
            return new Outcome(List.of(), Disposition.ACCEPTED, null, true);
        }
        return new Outcome(List.of(), Disposition.ACCEPTED, null, stallCleared);
    }

    /**
     * The command after the accepted position: the next step, or Finalize at the end (right after the dense step for
     * a job that publishes a sensitivity report).
     */
    private void next(List<Event> out) {
        Internal in = s.internal();
        long end = in.stopAt() != null ? in.stopAt() : recipe().publish().isSensitivityReport() ? 0 : s.steps();
        if (in.position() >= end) {
            send(out, s.steps() + 1, new Finalize((int) in.position(), in.positionAttempt()), true);
            s = s.toBuilder().state(JobState.FINALIZING, null).build();
            return;
        }
        int k = (int) in.position() + 1;
        send(out, k, new PruneStep(k, targetUsed(k), recipe().fineTune().iterationsPerStep(),
                points().get(k - 1).rewind(), s.attempt()), true);
        s = s.toBuilder().state(JobState.PRUNING, null).build();
    }

    private void stop(List<Event> out, long failedSeq, String why) {
        long lastGood = s.internal().lastGoodSeq();
        decide(out, failedSeq, SchedulerDecision.STOP, why + "; stop at seq " + lastGood);
        s = s.toBuilder().stopAt(lastGood).build();
        if (failedSeq != lastGood) {
            s = s.toBuilder().attempt(s.attempt() + 1).build();
            rollBack(out, failedSeq, why, null); // the Finalize follows its JobResumed
        } else {
            next(out);
        }
    }

    /**
     * Sends a RollBack from {@code failedSeq} to the last good step under the job's attempt, and waits for its
     * JobResumed; then the step at {@code retryTarget} follows, or (null) the next command.
     */
    private void rollBack(List<Event> out, long failedSeq, String why, Double retryTarget) {
        long lastGood = s.internal().lastGoodSeq();
        send(out, failedSeq, new RollBack(lastGood, s.attempt(), why), true);
        s = s.toBuilder().retryTarget(retryTarget).state(JobState.PRUNING, null).build();
    }

    /** The target step {@code seq} last reached within budget, else the schedule's. */
    private double targetUsed(long seq) {
        if (seq == 0) {
            return 0;
        }
        List<StepResult> results = s.results();
        for (int i = results.size() - 1; i >= 0; i--) {
            StepResult r = results.get(i);
            if (r.seq() == seq && r.decision().equals("ok")) {
                return r.targetSparsity();
            }
        }
        return points().get((int) seq - 1).targetSparsity();
    }

    private Key awaitedStep() {
        if (pending == null) {
            return null;
        }
        if (pending.payload() instanceof PruneStep p) {
            return new Key(p.step(), p.attempt());
        }
        if (pending.payload() instanceof JobStarted) {
            return new Key(0, 1);
        }
        return null;
    }

    private void decide(List<Event> out, long seq, String code, String detail) {
        Event e = Event.of(id(), seq, clock.instant(), new SchedulerDecision(seq, code, cutUtf8(detail, TEXT_BYTES)));
        out.add(e);
        record(e, true, code + ": " + detail);
    }

    private void send(List<Event> out, long seq, Command command, boolean awaits) {
        Event e = Event.of(id(), seq, clock.instant(), command);
        out.add(e);
        s = s.toBuilder().sent(seq).build();
        record(e, true, describe(command));
        if (awaits) {
            pending = e;
            Key key = command instanceof RollBack r ? new Key(r.toSeq(), r.attempt())
                    : new Key(e.seq(), command instanceof PruneStep p ? p.attempt() : s.attempt());
            // A JobStarted is not stored twice: the state holds its recipe already.
            String stored = command instanceof JobStarted ? null : new String(CODEC.encode(e), StandardCharsets.UTF_8);
            s = s.toBuilder().awaiting(key, stored, e.time().toString(), 0).build();
        }
    }

    private void clearPending() {
        pending = null;
        s = s.toBuilder().awaiting(null, null, null, 0).build();
    }

    /** The job has ended in {@code state}: it waits for nothing more. */
    private void end(JobState state) {
        clearPending();
        s = s.toBuilder().state(state, clock.instant().toString()).build();
    }

    private Outcome accepted(List<Event> out, Duration took) {
        s = s.toBuilder().updated(clock.instant().toString()).build();
        return new Outcome(out, Disposition.ACCEPTED, took, true);
    }

    private Outcome ignored(Event event, Disposition disposition, String why) {
        record(event, false, why);
        s = s.toBuilder().updated(clock.instant().toString()).build();
        return new Outcome(List.of(), disposition, null, true);
    }

    private void record(Event e, boolean accepted, String detail) {
        Payload p = e.payload();
        boolean command = !(p instanceof Report);
        HistoryEntry entry = new HistoryEntry(clock.instant().toString(), command ? "command" : "report", e.type(),
                e.seq(), attemptOf(p), cutUtf8(detail, TEXT_BYTES), accepted);
        List<HistoryEntry> history = appended(s.history(), entry, HISTORY_LIMIT);
        s = s.toBuilder().history(history, s.historyTrimmed() + s.history().size() + 1 - history.size()).build();
    }

    private void result(StepCompleted c, String decision) {
        StepResult r = new StepResult(c.seq(), c.attempt(), c.targetSparsity(), c.achievedSparsity(), c.accuracy(),
                c.testAccuracy(), decision);
        List<StepResult> results = appended(s.results(), r, RESULTS_LIMIT);
        s = s.toBuilder().results(results, s.resultsTrimmed() + s.results().size() + 1 - results.size()).build();
    }

    /** {@code list} and {@code last}, without the oldest entries beyond {@code limit}. */
    private static <T> List<T> appended(List<T> list, T last, int limit) {
        List<T> out = new ArrayList<>(Math.min(list.size() + 1, limit));
        out.addAll(list.subList(Math.max(0, list.size() + 1 - limit), list.size()));
        out.add(last);
        return out;
    }

    /** The attempt a history entry shows: a command's own (the job's when it has none), a StepCompleted's. */
    private Integer attemptOf(Payload p) {
        if (p instanceof PruneStep || p instanceof RollBack) {
            return JobFailed.attemptOf(p);
        } else if (p instanceof StepCompleted c) {
            return c.attempt();
        } else if (p instanceof Command || p instanceof SchedulerDecision) {
            return s.attempt();
        }
        return null;
    }

    private Recipe recipe() {
        if (recipe == null) {
            recipe = Recipe.parse(s.internal().recipeYaml());
        }
        return recipe;
    }

    private List<SchedulePoint> points() {
        if (points == null) {
            points = Schedule.of(recipe().schedule()).points();
        }
        return points;
    }

    private String budgetText() {
        var b = recipe().accuracyBudget();
        return b.minAccuracy().isPresent() ? "minAccuracy " + b.minAccuracy().getAsDouble()
                : String.format(Locale.ROOT, "maxDrop %s from dense %.4f", b.maxDrop().getAsDouble(),
                        s.denseAccuracy());
    }

    private static String summary(StepCompleted c) {
        return String.format(Locale.ROOT, "target %.4f achieved %.4f validation accuracy %.4f test %.4f%s",
                c.targetSparsity(), c.achievedSparsity(), c.accuracy(), c.testAccuracy(),
                c.redelivered() ? " (redelivered)" : "");
    }

    private static String describe(Command c) {
        if (c instanceof PruneStep p) {
            return String.format(Locale.ROOT, "target %.4f, %d fine-tune iterations%s", p.targetSparsity(),
                    p.fineTuneIterations(), p.rewind() ? ", rewind" : "");
        } else if (c instanceof JobStarted j) {
            return j.steps() + " steps";
        } else if (c instanceof Finalize f) {
            return "publish seq " + f.lastStep();
        } else if (c instanceof RollBack r) {
            return "to seq " + r.toSeq();
        } else if (c instanceof CancelJob j) {
            return j.reason();
        }
        return c.type();
    }

    /** {@code text} cut to at most {@code maxBytes} of UTF-8, between code points, with "…" where it was cut. */
    static String cutUtf8(String text, int maxBytes) {
        return Utf8.cut(text, maxBytes).length() == text.length() ? text : Utf8.cut(text, maxBytes - 3) + "…";
    }
}
