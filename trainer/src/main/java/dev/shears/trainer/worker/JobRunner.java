package dev.shears.trainer.worker;

import dev.shears.common.events.CancelJob;
import dev.shears.common.events.CommandKey;
import dev.shears.common.events.Event;
import dev.shears.common.events.Finalize;
import dev.shears.common.events.JobFailed;
import dev.shears.common.events.JobResumed;
import dev.shears.common.events.JobStarted;
import dev.shears.common.events.ModelPublished;
import dev.shears.common.events.Payload;
import dev.shears.common.events.PruneStep;
import dev.shears.common.events.RollBack;
import dev.shears.common.events.SchedulerDecision;
import dev.shears.common.events.StepCompleted;
import dev.shears.common.recipe.Recipe;
import dev.shears.common.recipe.RecipeException;
import dev.shears.common.schedule.Schedule;
import dev.shears.common.schedule.SchedulePoint;
import dev.shears.common.text.Utf8;
import dev.shears.trainer.checkpoint.CheckpointState;
import dev.shears.trainer.checkpoint.Checkpoints;
import dev.shears.trainer.checkpoint.JobDirectory;
import dev.shears.trainer.checkpoint.StepResult;
import dev.shears.trainer.data.DatasetException;
import dev.shears.trainer.data.Evaluation;
import dev.shears.trainer.data.JobInputs;
import dev.shears.trainer.data.MemoryBudget;
import dev.shears.trainer.data.Roots;
import dev.shears.trainer.job.JobSession;
import dev.shears.trainer.job.Progress;
import dev.shears.trainer.metrics.TrainerMetrics;
import dev.shears.trainer.publish.Publication;
import dev.shears.trainer.publish.Publisher;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies commands to jobs in a shared work directory ({@code <work-dir>/jobs/<jobId>/}, laid out by
 * {@link JobDirectory}), following the worker's table in {@code common/EVENTS.md}: the newest good checkpoint records
 * the key {@code (A, S)} of the last command applied, and a command with key {@code (a, s)} is a
 * redelivery (acknowledged again from the checkpoint), superseded (ignored), the next step, an
 * extra fine-tune, a roll-back, the finalization, or a gap ({@link JobFailed}, not retryable).
 *
 * <p>One worker at a time applies a command to a job: {@link JobLock} fences the job's directory,
 * so that a worker still finishing a step of a partition it lost and the partition's new owner
 * never apply the same command both. Keeps an open {@link JobSession} per job for speed, trusted
 * only while its checkpoint is still the newest on disk; {@link #forget} drops it whenever another
 * worker may have moved the job on. The open sessions share the worker's data sets ({@link JobInputs}) and are kept
 * within a {@link MemoryBudget}: past it, the least recently used are closed, to be reopened from their checkpoints when
 * their jobs' next commands come. A command that runs out of memory drops its half-trained session and throws the
 * {@link OutOfMemoryError} on: the worker exits rather than apply it again in a damaged JVM. The first time this runner sees a job whose checkpoint it did
 * not write (another worker's, or its own before a restart), it reports {@link JobResumed}. A job's metrics are
 * removed once it ends here (published, cancelled, failed for good) or is {@link #release}d.
 *
 * <p>{@link #apply} is called by one thread at a time; {@link #running()}, {@link #forget} and {@link #release} may be
 * called from others.
 */
final class JobRunner {
    private static final Logger log = LoggerFactory.getLogger(JobRunner.class);
    private final Path workDir;
    private final String worker;
    private final TrainerMetrics metrics;
    private final JobInputs inputs;
    /** The open sessions' estimated sizes, least recently used first. */
    private final MemoryBudget<String> budget;
    /** The size each job's session had when last counted, to make room before it opens again. */
    private final Map<String, Long> lastSize = new ConcurrentHashMap<>();
    private final Map<String, JobDirectory> directories = new ConcurrentHashMap<>();
    private final Map<String, JobSession> sessions = new ConcurrentHashMap<>();
    /** The key of each job's checkpoint this runner wrote or announced last. */
    private final Map<String, CommandKey> known = new ConcurrentHashMap<>();
    /** The step training now, for progress reports: a snapshot set and cleared by {@link #apply}. */
    private volatile Running running;

    /** What {@link #apply} did: the reports to send, in order, and one line for the log. */
    record Outcome(List<Event> reports, String summary) {
        Outcome {
            reports = List.copyOf(reports);
        }

        Outcome(Event report, String summary) {
            this(List.of(report), summary);
        }

        /** Nothing to report. */
        static Outcome quiet(String summary) {
            return new Outcome(List.of(), summary);
        }

        /** This outcome after {@code earlier}'s reports and summary. */
        Outcome after(Optional<Outcome> earlier) {
            return earlier.map(e -> new Outcome(Stream.concat(e.reports.stream(), reports.stream()).toList(),
                    e.summary + "; " + summary)).orElse(this);
        }

        /**
         * Whether it ends the job's work here: a publication, or a failure that sending the command again cannot fix
         * (the scheduler's policy decides what comes next, if anything).
         */
        boolean endsJob() {
            return reports.stream().map(Event::payload).anyMatch(p -> p instanceof ModelPublished
                    || p instanceof JobFailed f && !f.retryable());
        }
    }

    /** A training step in progress, for progress reports. */
    record Running(String jobId, long seq, Progress progress) {
    }

    /**
     * One call of {@link #apply}: the command, its job's directory, when to stop training, and when the command reached
     * this worker (for its log line).
     */
    private record Call(Event command, JobDirectory dir, BooleanSupplier stop, Instant received) {
        String jobId() {
            return command.jobId();
        }
    }

    /**
     * @param workDir the directory shared by all workers; jobs live in {@code jobs/<jobId>/} under it
     * @param worker this worker's id, as reports name it
     * @param metrics where metrics go
     * @param inputs where recipes' data sets and saved models are found; its data sets are shared by every session
     * @param sessionBudgetBytes what the open sessions may take together ({@link JobSession#footprintBytes()}), >= 0
     */
    JobRunner(Path workDir, String worker, TrainerMetrics metrics, JobInputs inputs, long sessionBudgetBytes) {
        this.workDir = workDir;
        this.worker = worker;
        this.metrics = metrics;
        this.inputs = inputs;
        this.budget = new MemoryBudget<>(sessionBudgetBytes);
    }

    /** The step training now, if any. */
    Optional<Running> running() {
        return Optional.ofNullable(running);
    }

    /**
     * Drops the job's open session: the next command re-opens it from its newest checkpoint (and
     * reports {@link JobResumed} if that is not the checkpoint this runner wrote or announced last).
     */
    void forget(String jobId) {
        sessions.remove(jobId);
        budget.remove(jobId);
        metrics.sessions(sessions.size(), budget.usedBytes());
    }

    /**
     * Lets the job go for good, as when it was cancelled or its partition moved to another worker: drops its session,
     * and its metrics leave this worker's registry after {@link TrainerMetrics#LINGER their linger} (the job's next
     * command here keeps them, or opens and registers them again).
     */
    void release(String jobId) {
        forget(jobId);
        ended(jobId);
    }

    /**
     * The job's work here is over (or may be: its next command opens what it needs again): its metrics go once the
     * scrapes have seen their final values.
     */
    private void ended(String jobId) {
        directories.remove(jobId);
        lastSize.remove(jobId);
        metrics.jobEnded(jobId);
    }

    /**
     * Applies one command (or acknowledges a redelivery, or ignores a superseded one) and returns
     * the reports to send. Every report's effect is durable when this returns. A command that
     * cannot be applied is answered by {@link JobFailed}; nothing of it is applied then.
     *
     * @param stop checked before every training batch
     * @throws CancellationException when {@code stop} held during training; nothing was applied,
     *     and the job's session was dropped
     */
    Outcome apply(Event command, BooleanSupplier stop) {
        return apply(command, stop, Instant.now());
    }

    /** {@link #apply(Event, BooleanSupplier)} of a command this worker received at {@code received} (for its log). */
    Outcome apply(Event command, BooleanSupplier stop, Instant received) {
        String jobId = command.jobId();
        if (command.payload() instanceof SchedulerDecision d) {
            return Outcome.quiet("decision " + d.decision() + (d.detail().isEmpty() ? "" : ": " + d.detail()));
        }
        Call call = new Call(command, directories.computeIfAbsent(jobId, id -> JobDirectory.in(workDir, id)), stop,
                received);
        Optional<Outcome> resumed = Optional.empty();
        Outcome outcome;
        // A job without a directory has no state to fence: only its start or a cancel creates one (a command for an
        // unknown job is a gap, and leaves nothing behind).
        boolean creates = command.payload() instanceof JobStarted || command.payload() instanceof CancelJob;
        try (JobLock lock = !creates && !call.dir().exists() ? null : JobLock.acquire(call.dir(), worker, stop,
                holder -> log.info("job {}: waiting for {}, which holds its directory, to finish applying a command",
                        jobId, holder))) {
            Optional<Checkpoints.Verified> latest = latest(call);
            resumed = latest.flatMap(v -> noticeRestore(call, v));
            outcome = decide(call, latest).after(resumed);
        } catch (CancellationException e) {
            forget(jobId);
            throw e;
        } catch (OutOfMemoryError e) {
            forget(jobId);
            throw e;
        } catch (IOException e) {
            forget(jobId);
            outcome = failed(call, e.getMessage(), true).after(resumed);
        } catch (RuntimeException e) {
            forget(jobId);
            Optional<OutOfMemoryError> oom = outOfMemory(e);
            if (oom.isPresent()) {
                throw oom.get();
            }
            outcome = failed(call, reason(e), false).after(resumed);
        } finally {
            running = null;
        }
        JobSession open = sessions.get(jobId);
        if (open != null) {
            counted(jobId, open);
        }
        if (outcome.endsJob()) {
            ended(jobId);
        }
        return outcome;
    }

    /** Counts {@code session} at its present size and closes the least recently used others past the budget. */
    private void counted(String jobId, JobSession session) {
        long bytes = session.footprintBytes();
        lastSize.put(jobId, bytes);
        budget.use(jobId, bytes);
        evictFor(0, jobId);
        metrics.dataSets(inputs.data().heapBytes());
    }

    /** Closes the least recently used sessions but {@code jobId}'s so that {@code incoming} more bytes fit. */
    private void evictFor(long incoming, String jobId) {
        for (String other : budget.evictFor(incoming, List.of(jobId))) {
            log.info("job {}: session closed to keep the open sessions within {} bytes; its next command reopens it"
                    + " from its checkpoint", other, budget.budgetBytes());
            forget(other);
        }
        metrics.sessions(sessions.size(), budget.usedBytes());
    }

    /** The out-of-memory error behind {@code e}, if one is (ND4J and DL4J wrap some of theirs). */
    private static Optional<OutOfMemoryError> outOfMemory(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof OutOfMemoryError oom) {
                return Optional.of(oom);
            }
        }
        return Optional.empty();
    }

    /**
     * Why a command failed, for its {@link JobFailed}: the data's and saved models' messages as they are (they name
     * the recipe's names and the fix, never the worker's paths), anything else with its exception's name.
     */
    private static String reason(RuntimeException e) {
        if (e.getCause() instanceof Roots.UnavailableException u) {
            log.warn("{} ({})", u.getMessage(), u.detail());
            return u.getMessage();
        }
        if (e.getCause() instanceof DatasetException d) {
            return d.getMessage();
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    private Outcome decide(Call call, Optional<Checkpoints.Verified> latest) throws IOException {
        Event command = call.command();
        Payload payload = command.payload();
        Optional<CommandKey> current = latest.map(v -> new CommandKey(v.state().attempt(), v.state().seq()));
        if (payload instanceof CancelJob c) {
            call.dir().create();
            call.dir().markCancelled(c.reason());
            release(call.jobId());
            return Outcome.quiet("cancelled: " + c.reason());
        }
        if (payload instanceof Finalize f) {
            Optional<ModelPublished> published = call.dir().published();
            if (published.isPresent()) {
                return new Outcome(Event.of(call.jobId(), command.seq(), published.get()),
                        "redelivered: published before as " + published.get().version());
            }
            if (current.isEmpty() || f.lastStep() != current.get().seq()) {
                return gap(call, current);
            }
            if (f.key().isPresent() && !f.key().get().equals(current.get())) {
                return failed(call, "Finalize of step " + f.lastStep() + " asks for the checkpoint " + f.key().get()
                        + ", the step the scheduler accepted, but the job's is " + current.get() + " (the other was"
                        + " found damaged, or not written yet): it is not published (fix: none needed; the scheduler"
                        + " sends the lost command again when it reads this worker's JobResumed)", false);
            }
            return finalizeJob(call);
        }
        CommandKey key = keyOf(payload, command.seq());
        if (current.isEmpty()) {
            return payload instanceof JobStarted js ? start(call, js) : gap(call, current);
        }
        CommandKey now = current.get();
        int order = key.compareTo(now);
        if (order == 0) {
            return redelivery(call, latest.get());
        }
        if (order < 0) {
            return Outcome.quiet("superseded by " + now + ": nothing to do");
        }
        Optional<CommandKey> lost = call.dir().checkpoints().lost().stream().map(JobRunner::keyOf)
                .max(CommandKey::compareTo);
        if (lost.isPresent() && key.attempt() <= lost.get().attempt()) {
            // That attempt's steps above (A, S) were applied and their checkpoint found damaged: applying one again
            // could apply its key twice, while the scheduler, told by JobResumed, sends them under a higher attempt.
            return Outcome.quiet("superseded: " + key + " was applied before and its checkpoint found damaged (lost up"
                    + " to " + lost.get() + "); the scheduler sends it again under a new attempt");
        }
        if (payload instanceof PruneStep p && p.step() == now.seq() + 1) {
            return prune(call, p, false);
        }
        if (payload instanceof PruneStep p && p.step() == now.seq()) {
            double target = latest.get().state().targetSparsity();
            if (Double.compare(p.targetSparsity(), target) != 0) {
                // Not an extra fine-tune: a step at another target belongs after a roll-back to the step before it (a
                // RollBack that failed, and whose retry came anyway, must not fine-tune the over-pruned model).
                return failed(call, String.format(Locale.ROOT, "PruneStep %s at target %s is not an extra fine-tune"
                        + " of the checkpoint %s, pruned to %s: an extra fine-tune keeps the checkpoint's target"
                        + " (fix: a step at another target follows a RollBack to the step before it)", key,
                        p.targetSparsity(), now, target), false);
            }
            return prune(call, p, true);
        }
        if (payload instanceof RollBack r && r.attempt() > now.attempt() && r.toSeq() <= now.seq()) {
            return rollBack(call, r);
        }
        return gap(call, current);
    }

    /**
     * The key a command is ordered by: {@code (attempt, seq)}; {@code JobStarted} is (1, 0). A
     * {@code RollBack} is keyed by the state it leads to, {@code (attempt, toSeq)}, so that a
     * redelivered roll-back is recognised until a later step ran.
     */
    static CommandKey keyOf(Payload payload, long seq) {
        if (payload instanceof PruneStep p) {
            return new CommandKey(p.attempt(), p.step());
        }
        if (payload instanceof RollBack r) {
            return new CommandKey(r.attempt(), r.toSeq());
        }
        return new CommandKey(1, seq);
    }

    /** The key of the command that led to a checkpoint. */
    static CommandKey keyOf(Checkpoints.Checkpoint c) {
        return new CommandKey(c.attempt(), c.seq());
    }

    private Outcome start(Call call, JobStarted js) throws IOException {
        String jobId = call.jobId();
        Recipe recipe;
        try {
            recipe = named(Recipe.parse(js.recipeYaml()), jobId);
        } catch (RecipeException e) {
            return failed(call, "the recipe cannot be used: " + e.getMessage(), false);
        }
        call.dir().create();
        call.dir().writeRecipe(js.recipeYaml());
        forget(jobId);
        JobSession session = open(call, recipe);
        session.stopWhen(call.stop());
        metrics.step(jobId, 0, js.steps());
        long started = System.nanoTime();
        running = new Running(jobId, 0, session.progress());
        effectStarts(call.command());
        Evaluation eval = session.pretrain();
        StepResult result = new StepResult(0, 0, session.achievedSparsity(), session.layerSparsity(), eval,
                session.iteration(), seconds(started), session.samplesPerSecond(), "dense");
        return commit(call, session, result, 1, String.format(Locale.ROOT, "dense pre-training: validation accuracy"
                + " %.4f, test %.4f", eval.accuracy(), eval.testAccuracy()));
    }

    private Outcome prune(Call call, PruneStep p, boolean extra) throws IOException {
        Optional<Outcome> closed = closed(call);
        if (closed.isPresent()) {
            return closed.get();
        }
        Event command = call.command();
        String jobId = call.jobId();
        JobSession session = session(call);
        session.stopWhen(call.stop());
        long started = System.nanoTime();
        long before = session.iteration();
        running = new Running(jobId, p.step(), session.progress());
        Duration arrived = Duration.between(command.time(), Instant.now());
        session.beginStep(p.step(), p.attempt(), p.targetSparsity(), p.fineTuneIterations()).ifPresent(i -> log.info(
                "job {}: step {} goes on from its mid-step checkpoint at iteration {} of {} ({} iterations lost)",
                jobId, p.step(), i.from(), p.fineTuneIterations(), i.lost()));
        session.applyMask(new SchedulePoint(p.step(), p.targetSparsity(), p.rewind()));
        Duration latency = effectStarts(command);
        Evaluation eval = session.fineTune("step " + p.step() + " fine-tune", p.fineTuneIterations());
        if (!Double.isFinite(eval.meanLoss())) {
            forget(jobId);
            return failed(call, "step " + p.step() + " diverged: validation loss " + eval.meanLoss()
                    + " (fix: a lower learning rate or a smaller step in sparsity)", false);
        }
        StepResult result = new StepResult(p.step(), p.targetSparsity(), session.achievedSparsity(),
                session.layerSparsity(), eval, session.iteration() - before, seconds(started),
                session.samplesPerSecond(), extra ? "extra fine-tune" : "ok");
        metrics.step(jobId, p.step(), Schedule.of(session.recipe().schedule()).steps());
        Outcome outcome = commit(call, session, result, p.attempt(), String.format(Locale.ROOT,
                "%s to %.4f: achieved %.4f, validation accuracy %.4f (test %.4f), mask applied %.3f ms after the command was created"
                        + " (%.3f ms computing it; received by this worker %.3f ms after it was created)",
                extra ? "extra fine-tune at" : "pruned", p.targetSparsity(), result.achievedSparsity(), eval.accuracy(),
                eval.testAccuracy(),
                latency.toNanos() / 1e6, latency.minus(arrived).toNanos() / 1e6,
                Duration.between(command.time(), call.received()).toNanos() / 1e6));
        metrics.stepDuration(jobId, Duration.ofNanos(System.nanoTime() - started));
        return outcome;
    }

    private Outcome rollBack(Call call, RollBack r) throws IOException {
        Optional<Outcome> closed = closed(call);
        if (closed.isPresent()) {
            return closed.get();
        }
        String jobId = call.jobId();
        JobSession session = session(call);
        if (call.dir().checkpoints().list().stream().noneMatch(c -> c.seq() == r.toSeq())) {
            return failed(call, "no checkpoint of step " + r.toSeq() + " is kept (fix: roll back to a step the recipe's"
                    + " checkpoints.keepLast retains)", false);
        }
        effectStarts(call.command());
        CheckpointState state = session.rollBackTo(r.toSeq(), r.attempt());
        CommandKey restored = new CommandKey(r.attempt(), r.toSeq());
        known.put(jobId, restored);
        return new Outcome(Event.of(jobId, r.toSeq(), JobResumed.of(restored, state.stepsUndone(), worker)),
                "rolled back to step " + r.toSeq() + ", " + state.stepsUndone() + " steps undone: " + r.reason());
    }

    private Outcome finalizeJob(Call call) throws IOException {
        Optional<Outcome> closed = closed(call);
        if (closed.isPresent()) {
            return closed.get();
        }
        String jobId = call.jobId();
        JobSession session = session(call);
        StepResult last = session.history().get(session.history().size() - 1);
        String name = session.recipe().publish().name();
        Optional<JobDirectory.Earlier> earlier = session.publishedBefore();
        if (earlier.isPresent()) {
            // published by a delivery that stopped before recording it: record that version, publish no second one
            forget(jobId);
            JobDirectory.Version v = earlier.get().version();
            Publication.Cost[] cost = Publisher.costs(v.dir());
            Event published = record(call, published(name, v.id(), earlier.get().artifact(), earlier.get().sha256(),
                    last, cost[0], cost[1]));
            return new Outcome(published, "published before as " + name + " " + v.id()
                    + " by a delivery that stopped before recording it; recorded now, nothing published again");
        }
        Publication p;
        effectStarts(call.command());
        try {
            p = session.publish();
        } finally {
            forget(jobId); // publishing made the pruning permanent: the session's model is no longer masked
        }
        Event published = record(call, published(p.name(), p.version(), p.model(), p.sha256(), last, p.dense(),
                p.published()));
        return new Outcome(published, "published " + p.name() + " " + p.version() + " (sha256 " + p.sha256() + ")");
    }

    /** The report of a publication: the published model's test accuracy (the validation split decided the steps). */
    private static ModelPublished published(String name, String version, java.nio.file.Path model, String sha256,
            StepResult last, Publication.Cost dense, Publication.Cost published) {
        return new ModelPublished(name, version, model.toAbsolutePath().toString(), sha256, last.testAccuracy(),
                last.achievedSparsity(), dense.flops(), published.flops(), dense.parameters(), published.parameters(),
                dense.latencyMs(), published.latencyMs(), dense.batchLatencyMs(), published.batchLatencyMs(),
                orZero(dense.fusedLatencyMs()), orZero(published.fusedLatencyMs()),
                orZero(dense.fusedBatchLatencyMs()), orZero(published.fusedBatchLatencyMs()));
    }

    /** A latency the event carries: 0 for one not measured (a model with no fused form). */
    private static double orZero(Double ms) {
        return ms == null ? 0 : ms;
    }

    /** Records the job's publication (what closes the job) and returns its report. */
    private Event record(Call call, ModelPublished published) throws IOException {
        Event event = Event.of(call.jobId(), call.command().seq(), published);
        call.dir().recordPublished(event);
        return event;
    }

    /** Records how long after its creation the command's effect starts, now; see {@link TrainerMetrics#commandLatency}. */
    private Duration effectStarts(Event command) {
        Duration latency = Duration.between(command.time(), Instant.now());
        metrics.commandLatency(command.type(), latency);
        return latency;
    }

    private Outcome redelivery(Call call, Checkpoints.Verified at) {
        String jobId = call.jobId();
        CheckpointState s = at.state();
        if (call.command().payload() instanceof RollBack r) {
            return new Outcome(Event.of(jobId, r.toSeq(), JobResumed.of(new CommandKey(r.attempt(), r.toSeq()),
                    s.stepsUndone(), worker)),
                    "redelivered: rolled back to step " + r.toSeq() + " before");
        }
        return new Outcome(Event.of(jobId, s.seq(), new StepCompleted(s.seq(), s.attempt(), s.targetSparsity(),
                s.achievedSparsity(), s.layerSparsity(), s.accuracy(), s.testAccuracy(), s.loss(), at.checkpoint().id(),
                worker, true)),
                "redelivered: acknowledged again from " + at.checkpoint().id());
    }

    private Outcome commit(Call call, JobSession session, StepResult result, int attempt, String summary)
            throws IOException {
        String jobId = call.jobId();
        session.commit(result, attempt);
        known.put(jobId, new CommandKey(attempt, result.seq()));
        String id = session.lastCheckpoint().orElseThrow().id();
        return new Outcome(Event.of(jobId, result.seq(), new StepCompleted(result.seq(), attempt,
                result.targetSparsity(), result.achievedSparsity(), result.layerSparsity(), result.accuracy(),
                result.testAccuracy(), result.loss(), id, worker, false)), summary + ", checkpoint " + id);
    }

    private Outcome gap(Call call, Optional<CommandKey> current) {
        Event command = call.command();
        String what = command.payload() instanceof Finalize f ? "Finalize of step " + f.lastStep()
                : command.type() + " " + keyOf(command.payload(), command.seq());
        return failed(call, what + " does not follow the job's last applied command "
                + current.map(CommandKey::toString).orElse("(none: the job has no checkpoint)")
                + " (fix: send the commands of a job in order, from JobStarted)", false);
    }

    /** The command's {@link JobFailed}, naming it; a reason over the event's limit is cut, between characters. */
    private Outcome failed(Call call, String reason, boolean retryable) {
        String text = Utf8.cut(reason == null || reason.isBlank() ? "failed" : reason, JobFailed.MAX_REASON_BYTES);
        return new Outcome(Event.of(call.jobId(), call.command().seq(), JobFailed.of(call.command(), text, worker,
                retryable)), "failed" + (retryable ? " (retryable)" : "") + ": " + text);
    }

    /** A job that was published or cancelled applies no more commands. */
    private Optional<Outcome> closed(Call call) throws IOException {
        if (call.dir().published().isPresent()) {
            return Optional.of(failed(call, "job " + call.jobId() + " is published and done: it applies no more"
                    + " commands (fix: submit a new job)", false));
        }
        Optional<String> cancelled = call.dir().cancelled();
        return cancelled.map(why -> failed(call, "job " + call.jobId() + " was cancelled (" + why + "): it applies no"
                + " more commands (fix: submit a new job)", false));
    }

    /**
     * The newest good checkpoint: the open session's when it is still the newest on disk, else
     * from disk (another worker moved the job on while this one held its partition no more: the
     * session is stale and dropped).
     */
    private Optional<Checkpoints.Verified> latest(Call call) throws IOException {
        Checkpoints onDisk = call.dir().checkpoints();
        JobSession open = sessions.get(call.jobId());
        if (open != null && open.lastCheckpoint().isPresent()) {
            Checkpoints.Checkpoint c = open.lastCheckpoint().get();
            List<Checkpoints.Checkpoint> all = onDisk.list();
            if (!all.isEmpty() && all.get(all.size() - 1).id().equals(c.id())) {
                return Optional.of(new Checkpoints.Verified(c, Checkpoints.readState(c.dir())));
            }
            log.info("job {}: newer checkpoints than this worker's session ({}): reopened from disk", call.jobId(),
                    c.id());
            forget(call.jobId());
        }
        return onDisk.latest();
    }

    /**
     * Reports {@link JobResumed} the first time this runner finds a job at a checkpoint it did not
     * write or announce last: another worker's, or this worker's before a restart; and whenever newer
     * checkpoints failed to verify, even if the one restored is the one it knew: those steps are lost.
     * The damaged checkpoints are set aside so that they are reported once. A job that comes back after a
     * rebalance ({@link #release} keeps what this runner knew) at the checkpoint this runner wrote is not reported:
     * nothing was lost or moved on, and the scheduler's commands from that checkpoint on apply as they are.
     */
    private Optional<Outcome> noticeRestore(Call call, Checkpoints.Verified at) {
        String jobId = call.jobId();
        CommandKey key = new CommandKey(at.state().attempt(), at.state().seq());
        Checkpoints checkpoints = call.dir().checkpoints();
        long lost = 0;
        List<Checkpoints.Checkpoint> damaged = new ArrayList<>();
        try {
            for (Checkpoints.Checkpoint c : checkpoints.list()) {
                if (keyOf(c).compareTo(key) > 0) {
                    lost = Math.max(lost, c.seq() - key.seq()); // newer checkpoints that did not verify
                    damaged.add(c);
                }
            }
        } catch (IOException e) {
            // counted as nothing lost; the scheduler still learns the key restored
        }
        if (key.equals(known.get(jobId)) && damaged.isEmpty()) {
            return Optional.empty();
        }
        for (Checkpoints.Checkpoint d : damaged) {
            try {
                checkpoints.setAside(d);
            } catch (IOException e) {
                log.warn("could not set aside the damaged checkpoint {}: {}", d.dir(), e.toString());
            }
        }
        known.put(jobId, key);
        metrics.restored(jobId, lost);
        List<CommandKey> keys = new ArrayList<>(new TreeSet<>(damaged.stream().map(JobRunner::keyOf).toList()));
        keys = keys.subList(Math.max(0, keys.size() - JobResumed.MAX_LOST), keys.size());
        Optional<Checkpoints.Interrupted> interrupted = checkpoints.interrupted(at.checkpoint().id());
        long from = interrupted.map(Checkpoints.Interrupted::from).orElse(0L);
        long iterationsLost = interrupted.map(Checkpoints.Interrupted::lost).orElse(0L);
        return Optional.of(new Outcome(Event.of(jobId, key.seq(), new JobResumed(key.seq(), key.attempt(), lost, keys,
                from, iterationsLost, worker)), "resumed from " + at.checkpoint().id() + " " + key
                        + (keys.isEmpty()
                                ? "" : ", lost " + keys + " (" + lost + " steps)")
                        + interrupted.map(i -> "; step " + i.seq()
                                + " was interrupted: it goes on from iteration " + i.from() + ", " + i.lost()
                                + " iterations lost")
                                .orElse("")));
    }

    private JobSession session(Call call) throws IOException {
        JobSession open = sessions.get(call.jobId());
        if (open != null) {
            return open;
        }
        String yaml = call.dir().recipe().orElseThrow(() -> new IOException("job " + call.jobId() + " has checkpoints"
                + " but no recipe in " + call.dir().path() + " (fix: the work directory must be the one shared by every"
                + " worker, --work-dir)"));
        return open(call, named(Recipe.parse(yaml), call.jobId()));
    }

    private JobSession open(Call call, Recipe recipe) throws IOException {
        evictFor(lastSize.getOrDefault(call.jobId(), 0L), call.jobId());
        JobSession session;
        try {
            session = JobSession.open(recipe, call.dir(), inputs, Progress.silent(), metrics);
        } catch (DatasetException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        sessions.put(call.jobId(), session);
        counted(call.jobId(), session);
        return session;
    }

    private static Recipe named(Recipe r, String jobId) {
        return r.job().equals(jobId) ? r
                : new Recipe(jobId, r.model(), r.data(), r.training(), r.pruning(), r.schedule(),
                        r.fineTune(), r.accuracyBudget(), r.checkpoints(), r.publish());
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
