package dev.shears.trainer.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.common.events.Decoded;
import dev.shears.common.events.Event;
import dev.shears.common.events.EventCodec;
import dev.shears.common.events.ModelPublished;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One job's directory, and the only code that names what is in it:
 *
 * <pre>
 * recipe.yaml               the recipe of the job's JobStarted (workers)
 * .lock                     the lock of the worker applying a command to the job
 * cancelled.txt             marker: the job was cancelled, and why
 * published.json            marker: the ModelPublished event that closed the job
 * checkpoints/              the job's {@link Checkpoints}
 * checkpoints/mid-step/     the step in progress, checkpointed inside the step ({@link Checkpoints#saveMidStep})
 * checkpoints/mid-step.progress  how far that step trained, noted every few seconds ({@link Checkpoints#noteProgress})
 * rewind/&lt;parameter&gt;.bin   lottery-ticket rewind snapshots
 * models/&lt;name&gt;/&lt;version&gt;/  publications: model.zip, model.sparse.zip, manifest.json
 * models/&lt;name&gt;/latest      a link to the newest version
 * summary.json              the local trainer's summary
 * </pre>
 *
 * <p>Every file is written by {@link AtomicFiles}: a crash leaves the old content or the new, and what a method wrote is
 * durable when it returns. A version is named {@code <UTC time to the millisecond>-step<seq>}, e.g.
 * {@code 20261205T033605123Z-step3}: unique among the job's versions of one name and, sorted by name, in the order they
 * were published. Holds no state of its own beside its path: any number of threads and processes may use the same
 * directory, each command of a job under the job's lock.
 */
public final class JobDirectory {
    static final String RECIPE = "recipe.yaml";
    static final String LOCK = ".lock";
    static final String CANCELLED = "cancelled.txt";
    static final String PUBLISHED = "published.json";
    static final String CHECKPOINTS = "checkpoints";
    static final String REWIND = "rewind";
    static final String MODELS = "models";
    static final String LATEST = "latest";
    static final String SUMMARY = "summary.json";

    private static final DateTimeFormatter VERSION_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'")
            .withZone(ZoneOffset.UTC);
    /** A version's time: to the millisecond, or to the second for versions published before milliseconds were added. */
    private static final Pattern VERSION = Pattern.compile("(\\d{8}T\\d{6})(\\d{3})?Z-step\\d+");
    private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss");

    private final Path path;
    private final Clock clock;
    private final Checkpoints checkpoints;
    private final EventCodec codec = new EventCodec();

    JobDirectory(Path path, Clock clock) {
        this.path = Objects.requireNonNull(path, "path");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.checkpoints = new Checkpoints(path.resolve(CHECKPOINTS));
    }

    /** The job whose directory is {@code path} (the local trainer's {@code --out}). */
    public static JobDirectory at(Path path) {
        return new JobDirectory(path, Clock.systemUTC());
    }

    /**
     * The job {@code jobId} in a work directory shared by workers: {@code <workDir>/jobs/<jobId>}.
     *
     * @throws IllegalArgumentException when {@code jobId} is not one safe path segment
     */
    public static JobDirectory in(Path workDir, String jobId) {
        return at(workDir.resolve("jobs").resolve(segment("job id", jobId)));
    }

    /** The directory itself. */
    public Path path() {
        return path;
    }

    /** Whether the directory exists: only a job's start or a cancel creates it. */
    public boolean exists() {
        return Files.isDirectory(path);
    }

    /** Creates the directory, durably, if it is absent. */
    public void create() throws IOException {
        AtomicFiles.createDirectories(path);
    }

    /** The job's checkpoints. */
    public Checkpoints checkpoints() {
        return checkpoints;
    }

    /** The file the worker's job lock holds. */
    public Path lockFile() {
        return path.resolve(LOCK);
    }

    /** Stores the recipe the job started with. */
    public void writeRecipe(String yaml) throws IOException {
        AtomicFiles.writeString(path.resolve(RECIPE), yaml);
    }

    /** The recipe the job started with; empty when none was stored. */
    public Optional<String> recipe() throws IOException {
        return read(path.resolve(RECIPE));
    }

    /** Marks the job cancelled: it applies no more commands. */
    public void markCancelled(String reason) throws IOException {
        AtomicFiles.writeString(path.resolve(CANCELLED), reason);
    }

    /** Why the job was cancelled; empty when it was not. */
    public Optional<String> cancelled() throws IOException {
        return read(path.resolve(CANCELLED)).map(String::strip);
    }

    /**
     * Records the publication that closes the job ({@code published.json}), the answer to every later
     * {@code Finalize}.
     *
     * @throws IllegalArgumentException when {@code event} is not a {@link ModelPublished}
     */
    public void recordPublished(Event event) throws IOException {
        if (!(event.payload() instanceof ModelPublished)) {
            throw new IllegalArgumentException("only a ModelPublished closes a job, not a " + event.type());
        }
        AtomicFiles.write(path.resolve(PUBLISHED), codec.encode(event));
    }

    /**
     * Whether the job is published: the recorded publication, or empty. A publication that stopped before it was
     * recorded is found by {@link #publishedFrom}.
     *
     * @throws IOException when {@code published.json} cannot be read or does not hold a {@link ModelPublished}
     */
    public Optional<ModelPublished> published() throws IOException {
        Path file = path.resolve(PUBLISHED);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        Decoded d = codec.decode(Files.readAllBytes(file));
        if (d instanceof Decoded.Accepted a && a.event().payload() instanceof ModelPublished m) {
            return Optional.of(m);
        }
        throw new IOException(file + " does not hold a ModelPublished event: " + d + " (fix: remove it to publish"
                + " again)");
    }

    /**
     * Stores the rewind snapshot of one parameter, written by {@code writer}.
     *
     * @throws IllegalArgumentException when {@code parameter} is not one safe path segment
     */
    public void writeRewind(String parameter, AtomicFiles.Writer writer) throws IOException {
        AtomicFiles.write(rewindFile(parameter), writer);
    }

    /** The rewind snapshot of one parameter; empty when there is none. */
    public Optional<Path> rewind(String parameter) {
        Path file = rewindFile(parameter);
        return Files.isRegularFile(file) ? Optional.of(file) : Optional.empty();
    }

    private Path rewindFile(String parameter) {
        return path.resolve(REWIND).resolve(segment("parameter", parameter) + ".bin");
    }

    /** Stores the local trainer's summary. */
    public void writeSummary(String json) throws IOException {
        AtomicFiles.writeString(path.resolve(SUMMARY), json);
    }

    /**
     * One published version of a model.
     *
     * @param name the model's name (the recipe's {@code publish.name})
     * @param id the version, e.g. {@code 20261205T033605123Z-step3}
     * @param dir its directory, {@code models/<name>/<id>}
     */
    public record Version(String name, String id, Path dir) {
        /** The model file's name in a version: DL4J's {@code ModelSerializer} zip. */
        public static final String MODEL = "model.zip";
        /** The sparse encoding's name in a version, present when it is smaller than the model file. */
        public static final String SPARSE_MODEL = "model.sparse.zip";
        /** The manifest's name in a version: digests, sparsity, accuracy, recipe and lineage. */
        public static final String MANIFEST = "manifest.json";

        /** The model file. */
        public Path model() {
            return dir.resolve(MODEL);
        }

        /** The manifest. */
        public Path manifest() {
            return dir.resolve(MANIFEST);
        }
    }

    /**
     * A new version of model {@code name} for step {@code step}, not created: named after now, to the millisecond, and
     * after every version there is (a later millisecond when two publications share one, or the clock went back).
     *
     * @throws IllegalArgumentException when {@code name} is not one safe path segment
     */
    public Version newVersion(String name, long step) throws IOException {
        Instant at = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        List<Version> existing = versions(name);
        if (!existing.isEmpty()) {
            Instant newest = timeOf(existing.get(existing.size() - 1).id());
            if (!at.isAfter(newest)) {
                at = newest.plusMillis(1);
            }
        }
        String id = VERSION_TIME.format(at) + "-step" + step;
        return new Version(name, id, modelDir(name).resolve(id));
    }

    /** An empty temporary directory to write {@code version}'s files into before {@link #commit}. */
    public Path stage(Version version) throws IOException {
        Path staged = AtomicFiles.temporary(version.dir());
        AtomicFiles.createDirectories(staged);
        return staged;
    }

    /**
     * Commits the files written into {@code staged} as {@code version}, durably, and points {@code latest} at it.
     *
     * @throws java.nio.file.FileAlreadyExistsException when the version exists (nothing is replaced)
     */
    public void commit(Version version, Path staged) throws IOException {
        AtomicFiles.commitDirectory(staged, version.dir());
        pointLatest(version);
    }

    /** The versions of model {@code name} that have a manifest, oldest first. */
    public List<Version> versions(String name) throws IOException {
        Path models = modelDir(name);
        if (!Files.isDirectory(models)) {
            return List.of();
        }
        try (Stream<Path> listing = Files.list(models)) {
            return listing.filter(d -> !d.getFileName().toString().startsWith(".")
                    && !Files.isSymbolicLink(d) && Files.isRegularFile(d.resolve(Version.MANIFEST)))
                    .sorted().map(d -> new Version(name, d.getFileName().toString(), d)).toList();
        }
    }

    /** The version {@code latest} points at; empty when there is no link. */
    public Optional<String> latest(String name) throws IOException {
        Path link = modelDir(name).resolve(LATEST);
        return Files.isSymbolicLink(link) ? Optional.of(Files.readSymbolicLink(link).toString()) : Optional.empty();
    }

    /**
     * A version published before from step {@code step} and checkpoint {@code checkpointId}, and its model's SHA-256 as
     * its manifest records it: a worker that stopped between publishing and recording it ({@link #recordPublished})
     * left it, and publishing again would make a second version of one job. Matched by the checkpoint's name, unique in
     * the job: another worker may see the job's directory under another path.
     *
     * @param version the version
     * @param sha256 its model file's SHA-256 (or its report's, for a version that published a report)
     * @param artifact the file that SHA-256 is of: {@link Version#model()}, or the report the manifest's
     *     {@code artifact} names
     */
    public record Earlier(Version version, String sha256, Path artifact) {

        /** A published model: its file is {@link Version#model()}. */
        public Earlier(Version version, String sha256) {
            this(version, sha256, version.model());
        }
    }

    /**
     * The version of model {@code name} whose manifest's lineage is {@code step} and {@code checkpointId}, if any
     * ({@link #lineage} writes what this reads); {@code latest} is pointed at it again when it is the newest version and
     * the stop came before that.
     */
    public Optional<Earlier> publishedFrom(String name, long step, String checkpointId) throws IOException {
        List<Version> all = versions(name);
        for (Version v : all) {
            JsonNode manifest = Json.MAPPER.readTree(v.manifest().toFile());
            JsonNode lineage = manifest.path("lineage");
            String from = String.valueOf(Path.of(lineage.path("checkpoint").asText()).getFileName());
            if (lineage.path("step").asLong(-1) == step && from.equals(checkpointId)) {
                if (v.equals(all.get(all.size() - 1)) && !latest(name).equals(Optional.of(v.id()))) {
                    pointLatest(v);
                }
                String file = manifest.path("artifact").asText(Version.MODEL);
                return Optional.of(new Earlier(v, manifest.path("files").path(file).asText(), v.dir().resolve(file)));
            }
        }
        return Optional.empty();
    }

    /**
     * The lineage a version's manifest records under {@code lineage}, which {@link #publishedFrom} matches: the job,
     * the step published and the checkpoint it came from ({@code ""} when none).
     */
    public static Map<String, Object> lineage(String job, long step, Optional<Checkpoints.Checkpoint> checkpoint) {
        return Map.of("job", job, "step", step, "checkpoint", checkpoint.map(c -> c.dir().toString()).orElse(""));
    }

    /**
     * Deletes what writers that crashed left in the job's directory, its rewind snapshots and its publications:
     * temporary files and directories untouched for {@link AtomicFiles#ABANDONED}. The checkpoints clean their own.
     */
    public void removeAbandoned() throws IOException {
        Instant now = clock.instant();
        AtomicFiles.removeAbandoned(path, now);
        AtomicFiles.removeAbandoned(path.resolve(REWIND), now);
        Path models = path.resolve(MODELS);
        if (Files.isDirectory(models)) {
            try (Stream<Path> names = Files.list(models)) {
                for (Path name : names.filter(Files::isDirectory).toList()) {
                    AtomicFiles.removeAbandoned(name, now);
                }
            }
        }
    }

    private void pointLatest(Version version) throws IOException {
        AtomicFiles.replaceLink(modelDir(version.name()).resolve(LATEST), Path.of(version.id()));
    }

    private Path modelDir(String name) {
        return path.resolve(MODELS).resolve(segment("model name", name));
    }

    private static Instant timeOf(String version) {
        Matcher m = VERSION.matcher(version);
        if (!m.matches()) {
            return Instant.MIN;
        }
        Instant seconds = LocalDateTime.parse(m.group(1), SECONDS).toInstant(ZoneOffset.UTC);
        return m.group(2) == null ? seconds.plusMillis(999) : seconds.plusMillis(Integer.parseInt(m.group(2)));
    }

    private static Optional<String> read(Path file) throws IOException {
        return Files.exists(file, LinkOption.NOFOLLOW_LINKS)
                ? Optional.of(Files.readString(file, StandardCharsets.UTF_8)) : Optional.empty();
    }

    /** {@code value} when it is one path segment that cannot leave its directory; else the exception. */
    private static String segment(String what, String value) {
        if (value == null || value.isEmpty() || value.startsWith(".") || value.contains("/") || value.contains("\\")
                || value.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException(what + " '" + value + "' is not one path segment: it must not be empty,"
                    + " start with '.', or hold '/', '\\' or control characters (fix: e.g. lenet5-fmnist-90)");
        }
        return value;
    }
}
