package dev.shears.scheduler;

import dev.shears.common.events.CancelJob;
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
import dev.shears.scheduler.JobSnapshot.HistoryEntry;
import dev.shears.scheduler.JobSnapshot.Internal;
import dev.shears.scheduler.JobSnapshot.Key;
import dev.shears.scheduler.JobSnapshot.Publication;
import dev.shears.scheduler.JobSnapshot.StepResult;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;

/**
 * One job's state machine, as {@code common/EVENTS.md} specifies the scheduler: it takes a report
 * (or a submit or cancel) and answers with the commands to send, in order, changing its state.
 * Pure: no Kafka, no clock but the one given. Not thread-safe: one thread owns all jobs.
 *
 * <p>The loop is closed: the next command goes out only after the awaited {@code StepCompleted},
 * the one whose {@code (seq, attempt)} is the key of the pending command; every other one is
 * ignored. Command keys never decrease; they repeat only where the contract says so (a retry
 * after a retryable failure, and the PruneStep that follows its RollBack).
 */
final class Job {

    /** History entries kept per job; older ones are dropped. */
    static final int HISTORY_LIMIT = 500;
    /** Results kept per job. */
    static final int RESULTS_LIMIT = 2000;
    /** How often a command is sent again after retryable failures before the job fails. */
    static final int MAX_FAILURE_RETRIES = 5;

    private static final EventCodec CODEC = new EventCodec();

    /** What a report or action did to the job. */
    enum Disposition { ACCEPTED, DUPLICATE, SUPERSEDED, IGNORED }

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
    private final Recipe recipe;
    private final String recipeYaml;
    private final List<SchedulePoint> points;
    private final String id;

    private JobState state;
    private long step = -1;
    private int attempt = 1;
    private Double targetSparsity;
    private Double achievedSparsity;
    private Double accuracy;
    private Double testAccuracy;
    private Double denseAccuracy;
    private String worker;
    private Instant submitted;
    private Instant updated;
    private final Deque<HistoryEntry> history = new ArrayDeque<>();
    private final Deque<StepResult> results = new ArrayDeque<>();
    private Publication publication;
    private String failure;

    private Event pending;
    private Instant awaitingSince;
    private long position = -1;
    private long lastGoodSeq = -1;
    private double lastGoodTarget;
    private int policyActions;
    private int failureRetries;
    private Long stopAt;
    private Long resumeExpected;
    private long lastCommandSeq;

    private Job(Recipe recipe, String recipeYaml, Clock clock) {
        this.clock = clock;
        this.recipe = recipe;
        this.recipeYaml = recipeYaml;
        this.points = Schedule.of(recipe.schedule()).points();
        this.id = recipe.job();
    }

    /** A new job for {@code recipe}, in state {@code submitted} once {@link #start()} has run. */
    static Job submit(Recipe recipe, Clock clock) {
        Job job = new Job(recipe, recipe.toYaml(), clock);
        job.submitted = clock.instant();
        job.updated = job.submitted;
        job.state = JobState.SUBMITTED;
        return job;
    }

    /** The JobStarted that begins the job (seq 0, attempt 1). */
    Outcome start() {
        List<Event> out = new ArrayList<>();
        send(out, 0, new JobStarted(recipeYaml, points.size()), true);
        return accepted(out, null);
    }

    String id() {
        return id;
    }

    JobState state() {
        return state;
    }

    /**
     * Cancels the job: a CancelJob with the seq of the last command sent; every later report is ignored.
     *
     * @throws IllegalStateException when the job has already ended
     */
    Outcome cancel(String reason) {
        if (state.ended()) {
            throw new IllegalStateException("job " + id + " is already " + state.label()
                    + ": only a running job can be cancelled (fix: submit it again under a new job name to rerun it)");
        }
        List<Event> out = new ArrayList<>();
        send(out, lastCommandSeq, new CancelJob(reason), false);
        state = JobState.CANCELLED;
        pending = null;
        awaitingSince = null;
        return accepted(out, null);
    }

    /** Takes one report for this job (reports of other jobs are the caller's mistake). */
    Outcome onReport(Event event) {
        if (!event.jobId().equals(id)) {
            throw new IllegalArgumentException("report for job " + event.jobId() + " given to job " + id);
        }
        Payload payload = event.payload();
        if (state.ended()) {
            return ignored(event, Disposition.IGNORED, "ignored: the job is " + state.label());
        }
        if (payload instanceof StepCompleted s) {
            return onStepCompleted(event, s);
        } else if (payload instanceof JobFailed f) {
            return onFailed(event, f);
        } else if (payload instanceof JobResumed r) {
            return onResumed(event, r);
        } else if (payload instanceof ModelPublished p) {
            return onPublished(event, p);
        } else if (payload instanceof JobProgress p) {
            return onProgress(p);
        }
        return ignored(event, Disposition.IGNORED, "ignored: " + event.type() + " is not a report");
    }

    private Outcome onStepCompleted(Event event, StepCompleted s) {
        worker = s.worker();
        Key awaited = awaitedStep();
        if (awaited == null || awaited.seq() != s.seq() || awaited.attempt() != s.attempt()) {
            boolean duplicate = s.redelivered() || results.stream()
                    .anyMatch(r -> r.seq() == s.seq() && r.attempt() == s.attempt());
            String why = awaited == null ? "no step awaited"
                    : "awaiting seq " + awaited.seq() + " attempt " + awaited.attempt();
            return ignored(event, duplicate ? Disposition.DUPLICATE : Disposition.SUPERSEDED,
                    (duplicate ? "ignored duplicate: " : "ignored superseded: ") + why + "; " + summary(s));
        }
        Duration took = awaitingSince == null ? null : Duration.between(awaitingSince, clock.instant());
        step = s.seq();
        position = s.seq();
        targetSparsity = s.targetSparsity();
        achievedSparsity = s.achievedSparsity();
        accuracy = s.accuracy();
        testAccuracy = s.testAccuracy();
        failureRetries = 0;
        pending = null;
        List<Event> out = new ArrayList<>();
        if (s.seq() == 0) {
            denseAccuracy = s.accuracy();
            lastGoodSeq = 0;
            lastGoodTarget = 0;
            record(event, true, summary(s) + ", dense");
            result(s, "dense");
            next(out);
            return accepted(out, took);
        }
        Verdict verdict = BudgetPolicy.decide(recipe.accuracyBudget(), s.accuracy(), denseAccuracy, policyActions);
        record(event, true, summary(s) + ", " + verdict.code());
        result(s, verdict.code());
        String miss = String.format(Locale.ROOT, "validation accuracy %.4f below the budget (%s) at seq %d attempt %d",
                s.accuracy(), budgetText(), s.seq(), s.attempt());
        switch (verdict) {
            case ACCEPT -> {
                lastGoodSeq = s.seq();
                lastGoodTarget = s.targetSparsity();
                policyActions = 0;
                next(out);
            }
            case EXTRA_FINE_TUNE -> {
                policyActions++;
                attempt++;
                long extra = recipe.accuracyBudget().extraIterations().orElse(recipe.fineTune().iterationsPerStep());
                decide(out, s.seq(), SchedulerDecision.EXTRA_FINE_TUNE, miss + "; extra fine-tune " + policyActions
                        + " of " + recipe.accuracyBudget().maxRetries() + ", " + extra + " iterations");
                send(out, s.seq(), new PruneStep((int) s.seq(), s.targetSparsity(), extra, false, attempt), true);
            }
            case ROLLBACK -> {
                policyActions++;
                attempt++;
                double smaller = BudgetPolicy.smallerStep(lastGoodTarget, s.targetSparsity());
                int retry = (int) lastGoodSeq + 1;
                decide(out, s.seq(), SchedulerDecision.ROLLBACK, miss + String.format(Locale.ROOT,
                        "; roll back to seq %d, retry %d of %d with target %.4f", lastGoodSeq, policyActions,
                        recipe.accuracyBudget().maxRetries(), smaller));
                rollBack(out, s.seq(), miss);
                send(out, retry, new PruneStep(retry, smaller, recipe.fineTune().iterationsPerStep(),
                        points.get(retry - 1).rewind(), attempt), true);
                state = JobState.PRUNING;
            }
            case STOP -> stop(out, s.seq(), miss);
        }
        return accepted(out, took);
    }

    private Outcome onFailed(Event event, JobFailed f) {
        worker = f.worker();
        if (pending == null || pending.seq() != f.seq()) {
            return ignored(event, Disposition.IGNORED, "ignored: not the pending command's failure; " + f.reason());
        }
        List<Event> out = new ArrayList<>();
        if (f.retryable() && failureRetries < MAX_FAILURE_RETRIES) {
            failureRetries++;
            record(event, true, "retryable: " + f.reason());
            decide(out, f.seq(), SchedulerDecision.RETRY, "retry " + failureRetries + " of " + MAX_FAILURE_RETRIES
                    + " after: " + f.reason());
            Event again = pending;
            send(out, again.seq(), (Command) again.payload(), true);
            return accepted(out, null);
        }
        record(event, true, (f.retryable() ? "retryable, out of retries: " : "not retryable: ") + f.reason());
        state = JobState.FAILED;
        failure = f.reason();
        pending = null;
        awaitingSince = null;
        return accepted(out, null);
    }

    private Outcome onResumed(Event event, JobResumed r) {
        worker = r.worker();
        if (resumeExpected != null && resumeExpected == r.restoredSeq()) {
            resumeExpected = null;
            record(event, true, "restored seq " + r.restoredSeq() + " as asked by RollBack");
            return accepted(List.of(), null);
        }
        List<Event> out = new ArrayList<>();
        // The worker found the checkpoint of the step it was sent damaged, after applying it: it refuses that step's
        // key from now on (applying a key twice is never allowed), so the step goes again under a new attempt.
        boolean awaitedLost = r.stepsRedone() > 0 && r.restoredSeq() == position && pending != null
                && pending.payload() instanceof PruneStep;
        if (r.restoredSeq() >= position && !awaitedLost) {
            record(event, true, "restored seq " + r.restoredSeq() + ", nothing lost");
            if (state == JobState.SUBMITTED) {
                state = JobState.PRETRAINING;
            }
            return accepted(out, null);
        }
        long restored = r.restoredSeq();
        long lost = Math.max(1, position - restored);
        record(event, true, "restored seq " + restored + ": " + (awaitedLost ? "the awaited step's checkpoint lost"
                : lost + " accepted step(s) lost") + ", sending again");
        attempt++;
        position = restored;
        step = restored;
        policyActions = 0;
        failureRetries = 0;
        resumeExpected = null;
        if (lastGoodSeq > restored) {
            lastGoodSeq = restored;
            lastGoodTarget = targetUsed(restored);
        }
        decide(out, restored + 1, SchedulerDecision.REDO, "worker " + r.worker()
                + " restored seq " + restored + ", " + lost + " step(s) lost; attempt " + attempt);
        next(out);
        return accepted(out, null);
    }

    private Outcome onPublished(Event event, ModelPublished p) {
        if (state != JobState.FINALIZING || pending == null || pending.seq() != event.seq()) {
            return ignored(event, Disposition.DUPLICATE, "ignored: no Finalize awaits seq " + event.seq());
        }
        publication = new Publication(p.name(), p.version(), p.path(), p.sha256(), p.accuracy(), p.sparsity());
        record(event, true, String.format(Locale.ROOT, "%s %s sparsity %.4f test accuracy %.4f sha256 %s", p.name(),
                p.version(), p.sparsity(), p.accuracy(), p.sha256()));
        state = JobState.PUBLISHED;
        pending = null;
        awaitingSince = null;
        return accepted(List.of(), null);
    }

    private Outcome onProgress(JobProgress p) {
        worker = p.worker();
        if (state == JobState.SUBMITTED && p.seq() == 0) {
            state = JobState.PRETRAINING;
            updated = clock.instant();
            return new Outcome(List.of(), Disposition.ACCEPTED, null, true);
        }
        return new Outcome(List.of(), Disposition.ACCEPTED, null, false);
    }

    /** The command after the accepted position: the next step, or Finalize at the end. */
    private void next(List<Event> out) {
        long end = stopAt != null ? stopAt : points.size();
        if (position >= end) {
            send(out, points.size() + 1, new Finalize((int) position), true);
            state = JobState.FINALIZING;
            return;
        }
        int k = (int) position + 1;
        SchedulePoint point = points.get(k - 1);
        send(out, k, new PruneStep(k, targetUsed(k), recipe.fineTune().iterationsPerStep(), point.rewind(), attempt),
                true);
        state = JobState.PRUNING;
    }

    private void stop(List<Event> out, long failedSeq, String why) {
        decide(out, failedSeq, SchedulerDecision.STOP, why + "; stop at seq " + lastGoodSeq);
        if (failedSeq != lastGoodSeq) {
            attempt++;
            rollBack(out, failedSeq, why);
        }
        stopAt = lastGoodSeq;
        next(out);
    }

    private void rollBack(List<Event> out, long failedSeq, String why) {
        send(out, failedSeq, new RollBack(lastGoodSeq, attempt, why), false);
        position = lastGoodSeq;
        resumeExpected = lastGoodSeq;
    }

    /** The target step {@code seq} last reached within budget, else the schedule's. */
    private double targetUsed(long seq) {
        if (seq == 0) {
            return 0;
        }
        for (var it = results.descendingIterator(); it.hasNext(); ) {
            StepResult r = it.next();
            if (r.seq() == seq && r.decision().equals("ok")) {
                return r.targetSparsity();
            }
        }
        return points.get((int) seq - 1).targetSparsity();
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
        Event e = Event.of(id, seq, clock.instant(), new SchedulerDecision(seq, code, cut(detail)));
        out.add(e);
        record(e, true, code + ": " + detail);
    }

    private void send(List<Event> out, long seq, Command command, boolean awaits) {
        Event e = Event.of(id, seq, clock.instant(), command);
        out.add(e);
        lastCommandSeq = seq;
        record(e, true, describe(command));
        if (awaits) {
            pending = e;
            awaitingSince = e.time();
        }
    }

    private Outcome accepted(List<Event> out, Duration took) {
        updated = clock.instant();
        return new Outcome(out, Disposition.ACCEPTED, took, true);
    }

    private Outcome ignored(Event event, Disposition disposition, String why) {
        record(event, false, why);
        updated = clock.instant();
        return new Outcome(List.of(), disposition, null, true);
    }

    private void record(Event e, boolean accepted, String detail) {
        Payload p = e.payload();
        boolean command = !(p instanceof Report);
        history.addLast(new HistoryEntry(clock.instant().toString(), command ? "command" : "report", e.type(),
                e.seq(), attemptOf(p), cut(detail), accepted));
        while (history.size() > HISTORY_LIMIT) {
            history.removeFirst();
        }
    }

    private Integer attemptOf(Payload p) {
        if (p instanceof PruneStep s) {
            return s.attempt();
        } else if (p instanceof RollBack r) {
            return r.attempt();
        } else if (p instanceof StepCompleted s) {
            return s.attempt();
        } else if (p instanceof Command || p instanceof SchedulerDecision) {
            return attempt;
        }
        return null;
    }

    private void result(StepCompleted s, String decision) {
        results.addLast(new StepResult(s.seq(), s.attempt(), s.targetSparsity(), s.achievedSparsity(), s.accuracy(),
                s.testAccuracy(), decision));
        while (results.size() > RESULTS_LIMIT) {
            results.removeFirst();
        }
    }

    private String budgetText() {
        var b = recipe.accuracyBudget();
        return b.minAccuracy().isPresent() ? "minAccuracy " + b.minAccuracy().getAsDouble()
                : String.format(Locale.ROOT, "maxDrop %s from dense %.4f", b.maxDrop().getAsDouble(), denseAccuracy);
    }

    private static String summary(StepCompleted s) {
        return String.format(Locale.ROOT, "target %.4f achieved %.4f validation accuracy %.4f test %.4f%s",
                s.targetSparsity(), s.achievedSparsity(), s.accuracy(), s.testAccuracy(),
                s.redelivered() ? " (redelivered)" : "");
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

    private static String cut(String text) {
        return text.length() <= 1000 ? text : text.substring(0, 1000) + "…";
    }

    /** The whole state, for the API and the state topic. */
    JobSnapshot snapshot() {
        Key awaiting = null;
        if (pending != null) {
            awaiting = new Key(pending.seq(), pending.payload() instanceof PruneStep p ? p.attempt() : attempt);
        }
        String pendingText = pending == null ? null : new String(CODEC.encode(pending), StandardCharsets.UTF_8);
        double floor = recipe.accuracyBudget().floor(denseAccuracy == null ? Double.NaN : denseAccuracy);
        return new JobSnapshot(id, state, step, points.size(), attempt, targetSparsity, achievedSparsity, accuracy,
                testAccuracy,
                denseAccuracy, Double.isNaN(floor) ? null : floor, worker, submitted.toString(), updated.toString(), new ArrayList<>(history),
                new ArrayList<>(results), publication, failure, awaiting,
                new Internal(recipeYaml, pendingText, awaitingSince == null ? null : awaitingSince.toString(),
                        position, lastGoodSeq, lastGoodTarget, policyActions, failureRetries, stopAt, resumeExpected,
                        lastCommandSeq));
    }

    /**
     * The job a snapshot describes, as it was.
     *
     * @throws IllegalArgumentException when the snapshot's recipe or pending command no longer reads
     */
    static Job restore(JobSnapshot s, Clock clock) {
        Internal in = s.internal();
        Job job = new Job(Recipe.parse(in.recipeYaml()), in.recipeYaml(), clock);
        job.state = s.state();
        job.step = s.step();
        job.attempt = s.attempt();
        job.targetSparsity = s.targetSparsity();
        job.achievedSparsity = s.achievedSparsity();
        job.accuracy = s.accuracy();
        job.testAccuracy = s.testAccuracy();
        job.denseAccuracy = s.denseAccuracy();
        job.worker = s.worker();
        job.submitted = Instant.parse(s.submitted());
        job.updated = Instant.parse(s.updated());
        job.history.addAll(s.history());
        job.results.addAll(s.results());
        job.publication = s.publication();
        job.failure = s.failure();
        if (in.pendingCommand() != null) {
            Decoded d = CODEC.decode(in.pendingCommand().getBytes(StandardCharsets.UTF_8));
            if (!(d instanceof Decoded.Accepted a)) {
                throw new IllegalArgumentException("job " + s.job() + ": stored pending command does not decode: " + d);
            }
            job.pending = a.event();
        }
        job.awaitingSince = in.awaitingSince() == null ? null : Instant.parse(in.awaitingSince());
        job.position = in.position();
        job.lastGoodSeq = in.lastGoodSeq();
        job.lastGoodTarget = in.lastGoodTarget();
        job.policyActions = in.policyActions();
        job.failureRetries = in.failureRetries();
        job.stopAt = in.stopAt();
        job.resumeExpected = in.resumeExpected();
        job.lastCommandSeq = in.lastCommandSeq();
        return job;
    }
}
