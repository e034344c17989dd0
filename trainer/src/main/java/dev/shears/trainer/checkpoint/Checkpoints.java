package dev.shears.trainer.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.common.recipe.AccuracyBudget;
import dev.shears.common.recipe.Recipe;
import dev.shears.prune.PrunedModel;
import dev.shears.prune.Pruning;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The crash-consistent checkpoints of one job, in one directory. A checkpoint is a directory
 * {@code ckpt-<seq>-<iteration>} ({@code ckpt-<seq>-<iteration>-a<attempt>} for attempts after the
 * first) holding the model with its updater and pruning state
 * ({@code model.zip}), the job's progress ({@code state.json}) and a {@code MANIFEST} of their
 * SHA-256 digests. It is written under a temporary name and committed by {@link AtomicFiles}, so a
 * crash leaves either the whole checkpoint or none, and a checkpoint written again under the same
 * name replaces the old one without a moment with neither. {@link #restoreLatest()}
 * verifies the digests and falls back to the previous checkpoint when one does not verify.
 * Checkpoints are ordered by the key {@code (attempt, seq)} of the command that led to them, then
 * by iteration: after a roll-back or an extra fine-tune (a higher attempt) the newest checkpoint is
 * the one written last, whatever its seq. Retention keeps the newest {@code keepLast} checkpoints,
 * the most accurate one, and the newest one its accuracy budget accepts: the one a roll-back returns
 * to ({@link Retention}).
 *
 * <p>Inside a step, a session may write a <em>mid-step</em> checkpoint ({@link #saveMidStep}, {@code mid-step/}): the
 * same files, for carrying the step on after a crash. It is no committed step: it is never listed, restored by
 * {@link #restoreLatest} or counted by retention, and the step's commit deletes it.
 *
 * <p>A checkpoint found damaged is {@link #setAside set aside}: kept as {@code .damaged-<name>-<millis>} for
 * {@link #DAMAGED_KEPT} for inspection, and recorded for good as a small {@code .lost-<name>} file, since the key of the
 * command that led to it was applied and its effect lost ({@link #lost()}).
 */
public final class Checkpoints {
    /** How long an interrupted write's temporary directory is left before {@code save} deletes it. */
    static final Duration ABANDONED = AtomicFiles.ABANDONED;
    /** How long a damaged checkpoint is kept for inspection once set aside; its {@code .lost-} record stays. */
    static final Duration DAMAGED_KEPT = Duration.ofDays(7);
    private static final Logger log = LoggerFactory.getLogger(Checkpoints.class);
    private static final Pattern NAME = Pattern.compile("ckpt-(\\d{6})-(\\d{10})(?:-a(\\d{6}))?");
    /** Where {@link #setAside} moves a damaged checkpoint: {@code .damaged-<name>-<millis>}. */
    private static final String DAMAGED = ".damaged-";
    private static final Pattern DAMAGED_NAME = Pattern
            .compile(Pattern.quote(DAMAGED) + "(" + NAME.pattern() + ")-\\d+");
    /** The record of a checkpoint set aside: {@code .lost-<name>}, holding when and why. */
    private static final String LOST = ".lost-";
    private static final Pattern LOST_NAME = Pattern.compile(Pattern.quote(LOST) + "(" + NAME.pattern() + ")");
    static final String MODEL = "model.zip";
    static final String STATE = "state.json";
    static final String MANIFEST = "MANIFEST";
    /** The job's one mid-step checkpoint, a directory like a checkpoint's: never listed, restored or retained. */
    static final String MID_STEP = "mid-step";
    /** The progress a training step last noted, for the iterations a crash lost. */
    private static final String PROGRESS = "mid-step.progress";
    private static final ObjectMapper JSON = Json.MAPPER;

    private final Path dir;

    /** A checkpoint on disk; {@code attempt} and {@code seq} are the key of the command that led to it. */
    public record Checkpoint(Path dir, long seq, long iteration, int attempt) {

        /** The checkpoint's directory name, its id in reports. */
        public String id() {
            return dir.getFileName().toString();
        }
    }

    /**
     * What {@link #restoreLatest()} found: the model and pruning state, the progress, which
     * checkpoint it came from, and why newer ones were rejected.
     */
    public record Restored(PrunedModel model, CheckpointState state, Path from, List<String> rejected) {
    }

    /**
     * What {@link #save} keeps: the newest {@code keepLast} checkpoints, the most accurate one, and the newest one that
     * {@code accepted} holds for. A roll-back returns to the last step the scheduler accepted, the newest checkpoint
     * within the accuracy budget; with extra fine-tunes or roll-backs of one step, more than {@code keepLast} newer
     * checkpoints may follow it, and retention must not delete it.
     *
     * @param keepLast how many of the newest checkpoints to keep, at least 1
     * @param accepted whether a checkpoint's progress is one the scheduler accepted (a roll-back may return to it)
     */
    public record Retention(int keepLast, Predicate<CheckpointState> accepted) {

        /** @throws IllegalArgumentException when {@code keepLast} is below 1 */
        public Retention {
            if (keepLast < 1) {
                throw new IllegalArgumentException("keepLast " + keepLast
                        + " is out of range: keep at least 1 checkpoint");
            }
            Objects.requireNonNull(accepted, "accepted");
        }

        /**
         * The recipe's: its {@code checkpoints.keepLast}, and the checkpoints its accuracy budget accepts, as the
         * scheduler judges them (the dense model, seq 0, always: it is the budget's reference).
         */
        public static Retention of(Recipe recipe) {
            AccuracyBudget budget = recipe.accuracyBudget();
            return new Retention(recipe.checkpoints().keepLast(),
                    s -> s.seq() == 0 || budget.accepts(s.accuracy(), s.denseAccuracy()));
        }

        /** The newest {@code keepLast} and the most accurate checkpoint, none kept for its budget. */
        public static Retention keepLast(int keepLast) {
            return new Retention(keepLast, s -> false);
        }
    }

    /** @param dir the job's checkpoint directory (created by the first {@link #save}) */
    public Checkpoints(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    /**
     * Writes a checkpoint and commits it atomically and durably; then keeps the newest {@code keepLast} checkpoints
     * and the most accurate one, and deletes the rest.
     *
     * @param keepLast how many of the newest checkpoints to keep, at least 1
     * @throws IOException when it cannot be written (nothing is committed then, and earlier
     *     checkpoints are untouched)
     */
    public Checkpoint save(Model model, Pruning pruning, CheckpointState state, int keepLast) throws IOException {
        return save(model, pruning, state, Retention.keepLast(keepLast));
    }

    /**
     * Writes a checkpoint and commits it atomically and durably; then keeps what {@code retention} says (the newest
     * {@code keepLast}, the most accurate, the newest accepted) and deletes the rest.
     *
     * @throws IOException when it cannot be written (nothing is committed then, and earlier
     *     checkpoints are untouched)
     */
    public Checkpoint save(Model model, Pruning pruning, CheckpointState state, Retention retention)
            throws IOException {
        AtomicFiles.createDirectories(dir);
        String name = String.format("ckpt-%06d-%010d", state.seq(), state.iteration())
                + (state.attempt() > 1 ? String.format("-a%06d", state.attempt()) : "");
        Path target = dir.resolve(name);
        write(target, model, pruning, state); // the same step and iteration again: the newer write wins
        retain(retention);
        return new Checkpoint(target, state.seq(), state.iteration(), state.attempt());
    }

    /**
     * Writes the model, its updater and pruning state and {@code state} as the directory {@code target}, replacing it
     * atomically and durably.
     */
    private static void write(Path target, Model model, Pruning pruning, Object state) throws IOException {
        Path tmp = AtomicFiles.temporary(target);
        try {
            Files.createDirectory(tmp);
            Path modelFile = tmp.resolve(MODEL);
            if (model instanceof MultiLayerNetwork net) {
                PrunedModel.save(net, pruning, modelFile.toFile(), true);
            } else if (model instanceof ComputationGraph graph) {
                PrunedModel.save(graph, pruning, modelFile.toFile(), true);
            } else {
                throw new IllegalArgumentException("cannot checkpoint a " + model.getClass().getName()
                        + " (fix: use a MultiLayerNetwork or a ComputationGraph)");
            }
            Files.write(tmp.resolve(STATE), JSON.writeValueAsBytes(state));
            StringBuilder manifest = new StringBuilder();
            for (String file : List.of(MODEL, STATE)) {
                manifest.append(sha256(tmp.resolve(file))).append("  ").append(file).append('\n');
            }
            Files.writeString(tmp.resolve(MANIFEST), manifest, StandardCharsets.UTF_8);
            AtomicFiles.replaceDirectory(tmp, target);
        } finally {
            AtomicFiles.deleteTree(tmp);
        }
    }

    /** A mid-step checkpoint: the model with its updater and pruning state, and where its step stood. */
    public record MidStep(PrunedModel model, MidStepState state) {
    }

    /**
     * How far a step had trained, as its session last noted it ({@link #noteProgress}): the key of its command, the
     * checkpoint it began from and the iterations done.
     */
    public record StepProgress(long seq, int attempt, String base, long done) {
    }

    /**
     * Writes the job's mid-step checkpoint ({@code mid-step/}: the model with its updater and pruning state, and
     * {@code state}), atomically and durably, replacing the one before. It is no committed step: {@link #list},
     * {@link #restoreLatest} and retention never see it, and the step's commit deletes it ({@link #deleteMidStep}).
     *
     * @throws IOException when it cannot be written (the one before stays then)
     */
    public void saveMidStep(Model model, Pruning pruning, MidStepState state) throws IOException {
        AtomicFiles.createDirectories(dir);
        write(dir.resolve(MID_STEP), model, pruning, state);
    }

    /** The mid-step checkpoint's state if there is one and its digests verify, without loading its model. */
    public Optional<MidStepState> midStepState() {
        Path midStep = dir.resolve(MID_STEP);
        if (!Files.isDirectory(midStep)) {
            return Optional.empty();
        }
        try {
            verify(midStep);
            return Optional.of(JSON.readValue(midStep.resolve(STATE).toFile(), MidStepState.class));
        } catch (IOException | RuntimeException e) {
            log.warn("the mid-step checkpoint {} does not verify; its step starts over: {}", midStep, e.getMessage());
            return Optional.empty();
        }
    }

    /** The mid-step checkpoint, model and state, if there is one and its digests verify. */
    public Optional<MidStep> restoreMidStep() {
        Path midStep = dir.resolve(MID_STEP);
        Optional<MidStepState> state = midStepState();
        if (state.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(new MidStep(PrunedModel.restore(midStep.resolve(MODEL).toFile(), true), state.get()));
        } catch (IOException | RuntimeException e) {
            log.warn("the mid-step checkpoint {} does not restore; its step starts over: {}", midStep, e.getMessage());
            return Optional.empty();
        }
    }

    /** Deletes the mid-step checkpoint and the progress noted, once its step is committed or abandoned. */
    public void deleteMidStep() throws IOException {
        AtomicFiles.deleteTree(dir.resolve(MID_STEP));
        Files.deleteIfExists(dir.resolve(PROGRESS));
    }

    /**
     * Notes how far a step has trained, for whoever resumes it after a crash to tell the iterations lost. Cheap and
     * not durable (no flush): a crash may lose the last note, never garble it (it is renamed into place). A note that
     * cannot be written is logged and skipped.
     */
    public void noteProgress(StepProgress progress) {
        Path file = dir.resolve(PROGRESS);
        Path tmp = AtomicFiles.temporary(file);
        try {
            AtomicFiles.createDirectories(dir);
            Files.write(tmp, JSON.writeValueAsBytes(progress));
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            log.debug("could not note the progress of step {}: {}", progress.seq(), e.toString());
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                log.debug("could not delete {}: {}", tmp, e.toString());
            }
        }
    }

    /**
     * A step that was training after the checkpoint it began from when its session stopped (a crash, a stop).
     *
     * @param seq the seq of its command
     * @param attempt the attempt of its command
     * @param from the iteration of the step its mid-step checkpoint holds, its training goes on from there; 0 when it
     *     has none (the step starts over)
     * @param lost the iterations it had trained past {@code from}, to be trained again: as far as it noted them
     *     ({@link #noteProgress}), so at least this many
     */
    public record Interrupted(long seq, int attempt, long from, long lost) {
    }

    /**
     * The step interrupted after the checkpoint {@code base} (its id; {@code ""} for dense pre-training), if one was:
     * from its mid-step checkpoint and the progress it noted.
     */
    public Optional<Interrupted> interrupted(String base) {
        Optional<MidStepState> mid = midStepState().filter(m -> m.base().equals(base));
        Optional<StepProgress> noted = progress().filter(p -> p.base().equals(base)
                && mid.map(m -> m.seq() == p.seq() && m.attempt() == p.attempt()).orElse(true));
        if (mid.isEmpty() && noted.isEmpty()) {
            return Optional.empty();
        }
        long from = mid.map(MidStepState::done).orElse(0L);
        long lost = noted.map(p -> Math.max(0, p.done() - from)).orElse(0L);
        return Optional.of(mid.map(m -> new Interrupted(m.seq(), m.attempt(), from, lost))
                .orElseGet(() -> new Interrupted(noted.get().seq(), noted.get().attempt(), 0, lost)));
    }

    /** The progress a step last noted ({@link #noteProgress}), if any reads. */
    public Optional<StepProgress> progress() {
        try {
            Path file = dir.resolve(PROGRESS);
            return Files.exists(file) ? Optional.of(JSON.readValue(file.toFile(), StepProgress.class))
                    : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The committed checkpoints, oldest first: by attempt, then seq, then iteration. */
    public List<Checkpoint> list() throws IOException {
        return parse(NAME, 0, true);
    }

    /**
     * Moves a checkpoint that does not verify aside, where it is never restored again but stays for
     * {@link #DAMAGED_KEPT} for inspection, and records for good that its key was lost ({@link #lost()}).
     */
    public void setAside(Checkpoint damaged) throws IOException {
        Instant now = Instant.now();
        AtomicFiles.writeString(dir.resolve(LOST + damaged.id()), "set aside at " + now + ": " + damaged.id()
                + " did not verify; the command that led to it was applied and its effect lost\n");
        Path aside = dir.resolve(DAMAGED + damaged.id() + "-" + now.toEpochMilli());
        Files.move(damaged.dir(), aside);
        Files.setLastModifiedTime(aside, FileTime.from(now));
        AtomicFiles.fsyncDirectory(dir);
    }

    /**
     * The checkpoints {@link #setAside set aside} as damaged, oldest first, whether their directories are still kept or
     * not: the commands that led to them were applied, and their effect is lost.
     */
    public List<Checkpoint> lost() throws IOException {
        Map<String, Checkpoint> byName = new LinkedHashMap<>();
        for (Checkpoint c : parse(LOST_NAME, 1, false)) {
            byName.put(nameIn(c), c);
        }
        for (Checkpoint c : parse(DAMAGED_NAME, 1, true)) { // set aside before the records existed
            byName.putIfAbsent(nameIn(c), c);
        }
        List<Checkpoint> all = new ArrayList<>(byName.values());
        all.sort(ORDER);
        return all;
    }

    /** Key order: attempt, then seq, then iteration. */
    private static final Comparator<Checkpoint> ORDER = Comparator.comparingInt(Checkpoint::attempt)
            .thenComparingLong(Checkpoint::seq).thenComparingLong(Checkpoint::iteration);

    /**
     * The entries whose names match {@code pattern} (directories, or files when not {@code directories}), the checkpoint
     * name at group {@code offset}, in key order.
     */
    private List<Checkpoint> parse(Pattern pattern, int offset, boolean directories) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Checkpoint> all = new ArrayList<>();
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path p : (Iterable<Path>) entries::iterator) {
                Matcher m = pattern.matcher(p.getFileName().toString());
                if (m.matches() && Files.isDirectory(p) == directories) {
                    all.add(new Checkpoint(p, Long.parseLong(m.group(offset + 1)), Long.parseLong(m.group(offset + 2)),
                            m.group(offset + 3) == null ? 1 : Integer.parseInt(m.group(offset + 3))));
                }
            }
        }
        all.sort(ORDER);
        return all;
    }

    /**
     * Restores the newest checkpoint whose digests verify, falling back to older ones; empty when
     * there is none. Leftovers of interrupted writes are removed.
     */
    public Optional<Restored> restoreLatest() throws IOException {
        return restoreNewest(c -> true);
    }

    /**
     * Restores the newest checkpoint of step {@code seq} whose digests verify (after an extra
     * fine-tune, the one of the highest attempt); empty when retention removed every one of them.
     */
    public Optional<Restored> restore(long seq) throws IOException {
        return restoreNewest(c -> c.seq() == seq);
    }

    /**
     * The newest checkpoint whose digests verify, with its progress, without loading its model:
     * what {@link #restoreLatest()} would restore. Like a restore, it finishes a replacement a crash interrupted; call
     * it only while no checkpoint is being written (under the job's lock, or in the only process).
     */
    public Optional<Verified> latest() throws IOException {
        AtomicFiles.recoverReplaced(dir);
        List<Checkpoint> all = list();
        for (int i = all.size() - 1; i >= 0; i--) {
            Checkpoint c = all.get(i);
            try {
                verify(c.dir());
                return Optional.of(new Verified(c, readState(c.dir())));
            } catch (IOException | RuntimeException e) {
                log.warn("checkpoint {} does not verify: {}", c.dir(), e.getMessage());
            }
        }
        return Optional.empty();
    }

    /** A checkpoint whose digests verified, and its progress. */
    public record Verified(Checkpoint checkpoint, CheckpointState state) {
    }

    private Optional<Restored> restoreNewest(Predicate<Checkpoint> which) throws IOException {
        removeLeftovers();
        List<Checkpoint> all = list();
        List<String> rejected = new ArrayList<>();
        for (int i = all.size() - 1; i >= 0; i--) {
            Checkpoint c = all.get(i);
            if (!which.test(c)) {
                continue;
            }
            try {
                verify(c.dir());
                CheckpointState state = JSON.readValue(c.dir().resolve(STATE).toFile(), CheckpointState.class);
                PrunedModel model = PrunedModel.restore(c.dir().resolve(MODEL).toFile(), true);
                if (!rejected.isEmpty()) {
                    log.warn("restored {} after rejecting newer checkpoints: {}", c.dir().getFileName(), rejected);
                }
                return Optional.of(new Restored(model, state, c.dir(), List.copyOf(rejected)));
            } catch (IOException | RuntimeException e) {
                rejected.add(c.dir().getFileName() + ": " + e.getMessage());
            }
        }
        if (!rejected.isEmpty()) {
            log.error("no checkpoint in {} could be restored: {}", dir, rejected);
        }
        return Optional.empty();
    }

    /** Reads a checkpoint's progress without loading its model. */
    public static CheckpointState readState(Path checkpoint) throws IOException {
        return JSON.readValue(checkpoint.resolve(STATE).toFile(), CheckpointState.class);
    }

    /** Checks every file named in the MANIFEST against its SHA-256. */
    static void verify(Path checkpoint) throws IOException {
        Path manifest = checkpoint.resolve(MANIFEST);
        if (!Files.exists(manifest)) {
            throw new IOException("no MANIFEST");
        }
        Map<String, String> expected = new LinkedHashMap<>();
        for (String line : Files.readAllLines(manifest, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            int sep = line.indexOf("  ");
            if (sep != 64) {
                throw new IOException("malformed MANIFEST line '" + line + "'");
            }
            expected.put(line.substring(sep + 2), line.substring(0, sep));
        }
        for (String required : List.of(MODEL, STATE)) {
            if (!expected.containsKey(required)) {
                throw new IOException("MANIFEST does not list " + required);
            }
        }
        for (Map.Entry<String, String> e : expected.entrySet()) {
            Path file = checkpoint.resolve(e.getKey()).normalize();
            if (!file.getParent().equals(checkpoint.normalize())) {
                throw new IOException("MANIFEST names a file outside the checkpoint: " + e.getKey());
            }
            if (!Files.exists(file)) {
                throw new IOException(e.getKey() + " is missing");
            }
            String actual = sha256(file);
            if (!actual.equals(e.getValue())) {
                throw new IOException(e.getKey() + " has SHA-256 " + actual + ", MANIFEST says " + e.getValue());
            }
        }
    }

    /**
     * Keeps the newest {@code keepLast}, the most accurate and the newest accepted checkpoint; deletes the rest, the
     * temporary directories of writes a crash interrupted once {@link #ABANDONED}, and the damaged checkpoints set
     * aside over {@link #DAMAGED_KEPT} ago (their {@code .lost-} records stay).
     */
    private void retain(Retention retention) throws IOException {
        Instant now = Instant.now();
        AtomicFiles.removeAbandoned(dir, now);
        removeOldDamaged(now);
        List<Checkpoint> all = list();
        int keepLast = retention.keepLast();
        if (all.size() <= keepLast) {
            return;
        }
        Checkpoint best = null;
        Checkpoint accepted = null;
        double bestAccuracy = Double.NEGATIVE_INFINITY;
        for (Checkpoint c : all) {
            try {
                CheckpointState state = readState(c.dir());
                if (state.accuracy() > bestAccuracy) {
                    bestAccuracy = state.accuracy();
                    best = c;
                }
                if (retention.accepted().test(state)) {
                    accepted = c; // key order: the last one that holds is the newest
                }
            } catch (IOException e) {
                // an unreadable checkpoint is never the best, nor one to return to
            }
        }
        for (Checkpoint c : all.subList(0, all.size() - keepLast)) {
            if (!c.equals(best) && !c.equals(accepted)) {
                AtomicFiles.deleteTree(c.dir());
            }
        }
    }

    private void removeOldDamaged(Instant now) throws IOException {
        long cutoff = now.minus(DAMAGED_KEPT).toEpochMilli();
        for (Checkpoint d : parse(DAMAGED_NAME, 1, true)) {
            if (Files.getLastModifiedTime(d.dir()).toMillis() >= cutoff) {
                continue;
            }
            String name = nameIn(d);
            Path record = dir.resolve(LOST + name);
            if (!Files.exists(record)) { // set aside before the records existed: keep what it says first
                AtomicFiles.writeString(record, "set aside before " + now + ": " + name + " did not verify\n");
            }
            AtomicFiles.deleteTree(d.dir());
        }
    }

    /** The checkpoint name inside the name of a damaged directory or a lost record. */
    private static String nameIn(Checkpoint c) {
        return NAME.matcher(c.id()).results().findFirst().orElseThrow().group();
    }

    /** Deletes every temporary directory and puts back a checkpoint a crashed replacement left aside. */
    private void removeLeftovers() throws IOException {
        for (Path p : AtomicFiles.entries(dir, AtomicFiles.TEMPORARY)) {
            AtomicFiles.deleteTree(p);
        }
        AtomicFiles.recoverReplaced(dir);
    }

    /** The SHA-256 of a file, in lower-case hex. */
    public static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0;) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

}
