package dev.shears.trainer.worker;

import dev.shears.common.events.CancelJob;
import dev.shears.common.events.Decoded;
import dev.shears.common.events.Event;
import dev.shears.common.events.EventCodec;
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
import dev.shears.trainer.checkpoint.CheckpointState;
import dev.shears.trainer.checkpoint.Checkpoints;
import dev.shears.trainer.data.DatasetException;
import dev.shears.trainer.data.EvalResult;
import dev.shears.trainer.job.JobSession;
import dev.shears.trainer.job.Progress;
import dev.shears.trainer.job.StepResult;
import dev.shears.trainer.metrics.TrainerMetrics;
import dev.shears.trainer.publish.Publication;
import dev.shears.trainer.publish.Publisher;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

/**
 * Applies commands to jobs in a shared work directory ({@code <work-dir>/jobs/<jobId>/}), following
 * the worker's table in {@code common/EVENTS.md}: the newest good checkpoint records the key
 * {@code (A, S)} of the last command applied, and a command with key {@code (a, s)} is a
 * redelivery (acknowledged again from the checkpoint), superseded (ignored), the next step, an
 * extra fine-tune, a roll-back, the finalization, or a gap ({@link JobFailed}, not retryable).
 *
 * <p>One worker at a time applies a command to a job: {@link JobLock} fences the job's directory,
 * so that a worker still finishing a step of a partition it lost and the partition's new owner
 * never apply the same command both. Keeps an open {@link JobSession} per job for speed, trusted
 * only while its checkpoint is still the newest on disk; {@link #forget} drops it whenever another
 * worker may have moved the job on. The first time this runner sees a job whose checkpoint it did
 * not write (another worker's, or its own before a restart), it reports {@link JobResumed}.
 *
 * <p>{@link #apply} is called by one thread at a time; {@link #running()} and {@link #forget} may be
 * called from others.
 */
final class JobRunner {
    static final String RECIPE = "recipe.yaml";
    static final String PUBLISHED = "published.json";
    static final String CANCELLED = "cancelled.txt";

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(JobRunner.class);
    private final Path jobsDir;
    private final String worker;
    private final TrainerMetrics metrics;
    private final EventCodec codec = new EventCodec();
    private final Map<String, JobSession> sessions = new ConcurrentHashMap<>();
    private final Map<String, Key> known = new ConcurrentHashMap<>();
    private volatile Running running;
    /** When the command being applied reached this worker. */
    private Instant received = Instant.now();

    /** What {@link #apply} did: the reports to send, in order, and one line for the log. */
    record Outcome(List<Event> reports, String summary) {
        Outcome {
            reports = List.copyOf(reports);
        }
    }

    /** A training step in progress, for progress reports. */
    record Running(String jobId, long seq, Progress progress) {}

    /** A command key, ordered by attempt, then seq. */
    record Key(int attempt, long seq) implements Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            return attempt != o.attempt ? Integer.compare(attempt, o.attempt) : Long.compare(seq, o.seq);
        }

        @Override
        public String toString() {
            return "(attempt " + attempt + ", seq " + seq + ")";
        }
    }

    /**
     * @param workDir the directory shared by all workers; jobs live in {@code jobs/<jobId>/} under it
     * @param worker this worker's id, as reports name it
     * @param metrics where metrics go
     */
    JobRunner(Path workDir, String worker, TrainerMetrics metrics) {
        this.jobsDir = workDir.resolve("jobs");
        this.worker = worker;
        this.metrics = metrics;
    }

    /** The job's directory. */
    Path jobDir(String jobId) {
        return jobsDir.resolve(jobId);
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
    }

    /** Drops every open session. */
    void forgetAll() {
        sessions.clear();
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
        this.received = received;
        String jobId = command.jobId();
        Payload payload = command.payload();
        if (payload instanceof SchedulerDecision d) {
            return new Outcome(List.of(), "decision " + d.decision() + (d.detail().isEmpty() ? "" : ": " + d.detail()));
        }
        List<Event> reports = new ArrayList<>();
        Path dir = jobDir(jobId);
        // A job without a directory has no state to fence: only its start or a cancel creates one (a command for an
        // unknown job is a gap, and leaves nothing behind).
        boolean creates = payload instanceof JobStarted || payload instanceof CancelJob;
        try (JobLock lock = !creates && !Files.isDirectory(dir) ? null : JobLock.acquire(dir, worker, stop,
                holder -> log.info("job {}: waiting for {}, which holds its directory, to finish applying a command",
                        jobId, holder))) {
            Optional<Checkpoints.Verified> latest = latest(jobId, dir);
            Optional<Key> current = latest.map(v -> new Key(v.state().attempt(), v.state().seq()));
            String resumed = latest.map(v -> noticeRestore(jobId, dir, v, reports)).orElse("");
            Outcome outcome = decide(command, dir, latest, current, stop, reports);
            return resumed.isEmpty() ? outcome : new Outcome(outcome.reports(), resumed + "; " + outcome.summary());
        } catch (CancellationException e) {
            forget(jobId);
            throw e;
        } catch (IOException e) {
            forget(jobId);
            return failed(command, reports, e.getMessage(), true);
        } catch (RuntimeException e) {
            forget(jobId);
            return failed(command, reports, e.getClass().getSimpleName() + ": " + e.getMessage(), false);
        } finally {
            running = null;
        }
    }

    private Outcome decide(Event command, Path dir, Optional<Checkpoints.Verified> latest, Optional<Key> current,
            BooleanSupplier stop, List<Event> reports) throws IOException {
        String jobId = command.jobId();
        Payload payload = command.payload();
        if (payload instanceof CancelJob c) {
            sessions.remove(jobId);
            Files.createDirectories(dir);
            writeAtomically(dir.resolve(CANCELLED), c.reason());
            return new Outcome(reports, "cancelled: " + c.reason());
        }
        if (payload instanceof Finalize f) {
            Optional<ModelPublished> published = published(dir);
            if (published.isPresent()) {
                reports.add(Event.of(jobId, command.seq(), published.get()));
                return new Outcome(reports, "redelivered: published before as " + published.get().version());
            }
            if (current.isEmpty() || f.lastStep() != current.get().seq()) {
                return gap(command, current, reports);
            }
            return finalizeJob(command, f, dir, reports);
        }
        Key key = keyOf(payload, command.seq());
        if (current.isEmpty()) {
            if (payload instanceof JobStarted js) {
                return start(command, js, dir, stop, reports);
            }
            return gap(command, current, reports);
        }
        Key now = current.get();
        int order = key.compareTo(now);
        if (order == 0) {
            return redelivery(command, latest.get(), reports);
        }
        if (order < 0) {
            return new Outcome(reports, "superseded by " + now + ": nothing to do");
        }
        Optional<Key> lost = lostUpTo(dir);
        if (lost.isPresent() && key.attempt() <= lost.get().attempt()) {
            return new Outcome(reports, "superseded: " + key + " was applied before and its checkpoint found damaged"
                    + " (lost up to " + lost.get() + "); the scheduler sends it again under a new attempt");
        }
        if (payload instanceof PruneStep p && (p.step() == now.seq() + 1 || p.step() == now.seq())) {
            return prune(command, p, p.step() == now.seq(), dir, stop, reports);
        }
        if (payload instanceof RollBack r && r.attempt() > now.attempt() && r.toSeq() <= now.seq()) {
            return rollBack(command, r, dir, reports);
        }
        return gap(command, current, reports);
    }

    /**
     * The key a command is ordered by: {@code (attempt, seq)}; {@code JobStarted} is (1, 0). A
     * {@code RollBack} is keyed by the state it leads to, {@code (attempt, toSeq)}, so that a
     * redelivered roll-back is recognised until a later step ran.
     */
    static Key keyOf(Payload payload, long seq) {
        if (payload instanceof PruneStep p) {
            return new Key(p.attempt(), p.step());
        }
        if (payload instanceof RollBack r) {
            return new Key(r.attempt(), r.toSeq());
        }
        return new Key(1, seq);
    }

    private Outcome start(Event command, JobStarted js, Path dir, BooleanSupplier stop, List<Event> reports)
            throws IOException {
        String jobId = command.jobId();
        Recipe recipe;
        try {
            recipe = named(Recipe.parse(js.recipeYaml()), jobId);
        } catch (RecipeException e) {
            return failed(command, reports, "the recipe cannot be used: " + e.getMessage(), false);
        }
        Files.createDirectories(dir);
        writeAtomically(dir.resolve(RECIPE), js.recipeYaml());
        sessions.remove(jobId);
        JobSession session = open(jobId, recipe, dir);
        session.stopWhen(stop);
        metrics.step(jobId, 0, js.steps());
        long started = System.nanoTime();
        running = new Running(jobId, 0, progressOf(session));
        effectStarts(command);
        EvalResult eval = session.pretrain();
        StepResult result = new StepResult(0, 0, session.achievedSparsity(), session.layerSparsity(), eval.accuracy(),
                eval.meanLoss(), session.iteration(), seconds(started), session.samplesPerSecond(), "dense");
        return commit(command, session, result, 1, reports, String.format(Locale.ROOT,
                "dense pre-training: accuracy %.4f", eval.accuracy()));
    }

    private Outcome prune(Event command, PruneStep p, boolean extra, Path dir, BooleanSupplier stop, List<Event> reports)
            throws IOException {
        String jobId = command.jobId();
        Optional<Outcome> closed = closed(command, dir, reports);
        if (closed.isPresent()) {
            return closed.get();
        }
        JobSession session = session(jobId, dir);
        session.stopWhen(stop);
        long started = System.nanoTime();
        long before = session.iteration();
        running = new Running(jobId, p.step(), progressOf(session));
        Duration arrived = Duration.between(command.time(), Instant.now());
        session.applyMask(new SchedulePoint(p.step(), p.targetSparsity(), p.rewind()));
        Duration latency = effectStarts(command);
        EvalResult eval = session.fineTune("step " + p.step() + " fine-tune", p.fineTuneIterations());
        if (!Double.isFinite(eval.meanLoss())) {
            forget(jobId);
            return failed(command, reports, "step " + p.step() + " diverged: test loss " + eval.meanLoss()
                    + " (fix: a lower learning rate or a smaller step in sparsity)", false);
        }
        StepResult result = new StepResult(p.step(), p.targetSparsity(), session.achievedSparsity(),
                session.layerSparsity(), eval.accuracy(), eval.meanLoss(), session.iteration() - before, seconds(started),
                session.samplesPerSecond(), extra ? "extra fine-tune" : "ok");
        metrics.step(jobId, p.step(), Schedule.of(session.recipe().schedule()).steps());
        Outcome outcome = commit(command, session, result, p.attempt(), reports, String.format(Locale.ROOT,
                "%s to %.4f: achieved %.4f, accuracy %.4f, mask applied %.3f ms after the command was created"
                        + " (%.3f ms computing it; received by this worker %.3f ms after it was created)",
                extra ? "extra fine-tune at" : "pruned", p.targetSparsity(), result.achievedSparsity(), eval.accuracy(),
                latency.toNanos() / 1e6, latency.minus(arrived).toNanos() / 1e6,
                Duration.between(command.time(), received).toNanos() / 1e6));
        metrics.stepDuration(jobId, Duration.ofNanos(System.nanoTime() - started));
        return outcome;
    }

    private Outcome rollBack(Event command, RollBack r, Path dir, List<Event> reports) throws IOException {
        String jobId = command.jobId();
        Optional<Outcome> closed = closed(command, dir, reports);
        if (closed.isPresent()) {
            return closed.get();
        }
        JobSession session = session(jobId, dir);
        if (session.checkpoints().list().stream().noneMatch(c -> c.seq() == r.toSeq())) {
            return failed(command, reports, "no checkpoint of step " + r.toSeq() + " is kept (fix: roll back to a step"
                    + " the recipe's checkpoints.keepLast retains)", false);
        }
        effectStarts(command);
        CheckpointState state = session.rollBackTo(r.toSeq(), r.attempt());
        known.put(jobId, new Key(r.attempt(), r.toSeq()));
        reports.add(Event.of(jobId, r.toSeq(), new JobResumed(r.toSeq(), state.stepsUndone(), worker)));
        return new Outcome(reports, "rolled back to step " + r.toSeq() + ", " + state.stepsUndone() + " steps undone: "
                + r.reason());
    }

    private Outcome finalizeJob(Event command, Finalize f, Path dir, List<Event> reports) throws IOException {
        String jobId = command.jobId();
        Optional<Outcome> closed = closed(command, dir, reports);
        if (closed.isPresent()) {
            return closed.get();
        }
        JobSession session = session(jobId, dir);
        StepResult last = session.history().get(session.history().size() - 1);
        String name = session.recipe().publish().name();
        Optional<Publisher.Earlier> earlier = session.publishedBefore();
        if (earlier.isPresent()) {
            // published by a delivery that stopped before recording it: record that version, publish no second one
            sessions.remove(jobId);
            Publisher.Earlier e = earlier.get();
            record(command, dir, reports, new ModelPublished(name, e.version(), e.model().toAbsolutePath().toString(),
                    e.sha256(), last.accuracy(), last.achievedSparsity()));
            return new Outcome(reports, "published before as " + name + " " + e.version()
                    + " by a delivery that stopped before recording it; recorded now, nothing published again");
        }
        Publication p;
        effectStarts(command);
        try {
            p = session.publish();
        } finally {
            sessions.remove(jobId); // publishing made the pruning permanent: the session's model is no longer masked
        }
        record(command, dir, reports, new ModelPublished(p.name(), p.version(), p.model().toAbsolutePath().toString(),
                p.sha256(), last.accuracy(), last.achievedSparsity()));
        return new Outcome(reports, "published " + p.name() + " " + p.version() + " (sha256 " + p.sha256() + ")");
    }

    /** Writes the job's {@code published.json} (what closes the job) and reports it. */
    private void record(Event command, Path dir, List<Event> reports, ModelPublished published) throws IOException {
        Event event = Event.of(command.jobId(), command.seq(), published);
        Files.write(dir.resolve(PUBLISHED + ".tmp"), codec.encode(event));
        Files.move(dir.resolve(PUBLISHED + ".tmp"), dir.resolve(PUBLISHED), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
        reports.add(event);
    }

    /** Records how long after its creation the command's effect starts, now; see {@link TrainerMetrics#commandLatency}. */
    private Duration effectStarts(Event command) {
        Duration latency = Duration.between(command.time(), Instant.now());
        metrics.commandLatency(command.type(), latency);
        return latency;
    }

    private Outcome redelivery(Event command, Checkpoints.Verified at, List<Event> reports) {
        String jobId = command.jobId();
        CheckpointState s = at.state();
        if (command.payload() instanceof RollBack r) {
            reports.add(Event.of(jobId, r.toSeq(), new JobResumed(r.toSeq(), s.stepsUndone(), worker)));
            return new Outcome(reports, "redelivered: rolled back to step " + r.toSeq() + " before");
        }
        reports.add(Event.of(jobId, s.seq(), new StepCompleted(s.seq(), s.attempt(), s.targetSparsity(),
                s.achievedSparsity(), s.layerSparsity(), s.accuracy(), s.loss(), at.checkpoint().id(), worker, true)));
        return new Outcome(reports, "redelivered: acknowledged again from " + at.checkpoint().id());
    }

    private Outcome commit(Event command, JobSession session, StepResult result, int attempt, List<Event> reports,
            String summary) throws IOException {
        String jobId = command.jobId();
        session.commit(result, attempt);
        known.put(jobId, new Key(attempt, result.seq()));
        String id = session.lastCheckpoint().orElseThrow().id();
        reports.add(Event.of(jobId, result.seq(), new StepCompleted(result.seq(), attempt, result.targetSparsity(),
                result.achievedSparsity(), result.layerSparsity(), result.accuracy(), result.loss(), id, worker, false)));
        return new Outcome(reports, summary + ", checkpoint " + id);
    }

    private Outcome gap(Event command, Optional<Key> current, List<Event> reports) {
        String what = command.payload() instanceof Finalize f ? "Finalize of step " + f.lastStep()
                : command.type() + " " + keyOf(command.payload(), command.seq());
        return failed(command, reports, what + " does not follow the job's last applied command "
                + current.map(Key::toString).orElse("(none: the job has no checkpoint)")
                + " (fix: send the commands of a job in order, from JobStarted)", false);
    }

    private Outcome failed(Event command, List<Event> reports, String reason, boolean retryable) {
        String text = reason == null || reason.isBlank() ? "failed" : reason;
        if (text.length() > 16_000) {
            text = text.substring(0, 16_000);
        }
        reports.add(Event.of(command.jobId(), command.seq(), new JobFailed(command.seq(), text, worker, retryable)));
        return new Outcome(reports, "failed" + (retryable ? " (retryable)" : "") + ": " + text);
    }

    /** The key of the command that led to a checkpoint. */
    private static Key keyOf(Checkpoints.Checkpoint c) {
        return new Key(c.attempt(), c.seq());
    }

    /**
     * The newest key whose checkpoint was found damaged and set aside: commands up to it were applied and their
     * effect lost. A newer command of that attempt or an older one is stale: applying it could apply a key a second
     * time, while the scheduler, told by {@link JobResumed}, sends the lost steps again under a higher attempt.
     */
    private static Optional<Key> lostUpTo(Path dir) throws IOException {
        return new Checkpoints(dir.resolve("checkpoints"), Integer.MAX_VALUE).setAside().stream()
                .map(JobRunner::keyOf).max(Key::compareTo);
    }

    /** A job that was published or cancelled applies no more commands. */
    private Optional<Outcome> closed(Event command, Path dir, List<Event> reports) throws IOException {
        if (Files.exists(dir.resolve(PUBLISHED))) {
            return Optional.of(failed(command, reports, "job " + command.jobId() + " is published and done: it applies"
                    + " no more commands (fix: submit a new job)", false));
        }
        if (Files.exists(dir.resolve(CANCELLED))) {
            return Optional.of(failed(command, reports, "job " + command.jobId() + " was cancelled ("
                    + Files.readString(dir.resolve(CANCELLED)).strip() + "): it applies no more commands"
                    + " (fix: submit a new job)", false));
        }
        return Optional.empty();
    }

    /**
     * The newest good checkpoint: the open session's when it is still the newest on disk, else
     * from disk (another worker moved the job on while this one held its partition no more: the
     * session is stale and dropped).
     */
    private Optional<Checkpoints.Verified> latest(String jobId, Path dir) throws IOException {
        Checkpoints onDisk = new Checkpoints(dir.resolve("checkpoints"), Integer.MAX_VALUE);
        JobSession open = sessions.get(jobId);
        if (open != null && open.lastCheckpoint().isPresent()) {
            Checkpoints.Checkpoint c = open.lastCheckpoint().get();
            List<Checkpoints.Checkpoint> all = onDisk.list();
            if (!all.isEmpty() && all.get(all.size() - 1).dir().getFileName().equals(c.dir().getFileName())) {
                return Optional.of(new Checkpoints.Verified(c, Checkpoints.readState(c.dir())));
            }
            log.info("job {}: newer checkpoints than this worker's session ({}): reopened from disk", jobId, c.id());
            forget(jobId);
        }
        return onDisk.latest();
    }

    /**
     * Reports {@link JobResumed} the first time this runner finds a job at a checkpoint it did not
     * write: another worker's, or this worker's before a restart or a rebalance; and whenever newer
     * checkpoints failed to verify, even if the one restored is the one it knew: those steps are lost.
     * The damaged checkpoints are set aside ({@code .damaged-<name>}) so that they are reported once.
     */
    private String noticeRestore(String jobId, Path dir, Checkpoints.Verified at, List<Event> reports) {
        Key key = new Key(at.state().attempt(), at.state().seq());
        long lost = 0;
        Checkpoints checkpoints = new Checkpoints(dir.resolve("checkpoints"), Integer.MAX_VALUE);
        List<Checkpoints.Checkpoint> damaged = new ArrayList<>();
        try {
            for (Checkpoints.Checkpoint c : checkpoints.list()) {
                if (keyOf(c).compareTo(key) > 0) {
                    lost = Math.max(lost, c.seq() - key.seq()); // newer checkpoints that did not verify
                    damaged.add(c);
                }
            }
        } catch (IOException e) {
            // counted as nothing lost; the scheduler still learns the seq restored
        }
        if (key.equals(known.get(jobId)) && damaged.isEmpty()) {
            return "";
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
        reports.add(Event.of(jobId, key.seq(), new JobResumed(key.seq(), lost, worker)));
        return "resumed from " + at.checkpoint().id() + " " + key + (lost > 0 ? ", " + lost + " steps lost" : "");
    }

    private JobSession session(String jobId, Path dir) throws IOException {
        JobSession open = sessions.get(jobId);
        if (open != null) {
            return open;
        }
        Path recipeFile = dir.resolve(RECIPE);
        if (!Files.exists(recipeFile)) {
            throw new IOException("job " + jobId + " has checkpoints but no " + recipeFile + " (fix: the work directory"
                    + " must be the one shared by every worker, --work-dir)");
        }
        Recipe recipe = named(Recipe.parse(Files.readString(recipeFile, StandardCharsets.UTF_8)), jobId);
        return open(jobId, recipe, dir);
    }

    private JobSession open(String jobId, Recipe recipe, Path dir) throws IOException {
        JobSession session;
        try {
            session = JobSession.open(recipe, dir, Progress.silent(), metrics);
        } catch (DatasetException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        sessions.put(jobId, session);
        return session;
    }

    private static Progress progressOf(JobSession session) {
        return session.progress();
    }

    private static Recipe named(Recipe r, String jobId) {
        return r.job().equals(jobId) ? r : new Recipe(jobId, r.model(), r.data(), r.training(), r.pruning(), r.schedule(),
                r.fineTune(), r.accuracyBudget(), r.checkpoints(), r.publish());
    }

    private Optional<ModelPublished> published(Path dir) throws IOException {
        Path file = dir.resolve(PUBLISHED);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        Decoded d = codec.decode(Files.readAllBytes(file));
        if (d instanceof Decoded.Accepted a && a.event().payload() instanceof ModelPublished m) {
            return Optional.of(m);
        }
        throw new IOException(file + " does not hold a ModelPublished event: " + d + " (fix: remove it to publish again)");
    }

    private static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
