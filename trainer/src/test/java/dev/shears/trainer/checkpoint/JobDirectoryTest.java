package dev.shears.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shears.common.events.Event;
import dev.shears.common.events.JobFailed;
import dev.shears.common.events.ModelPublished;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobDirectoryTest {
    static final Instant NOW = Instant.parse("2026-12-05T03:36:05.123Z");

    @TempDir
    Path work;

    JobDirectory at(Instant now) {
        return new JobDirectory(work.resolve("jobs/job-a"), Clock.fixed(now, ZoneOffset.UTC));
    }

    /** Publishes a version of {@code name} with a manifest of this lineage, as the publisher does. */
    static JobDirectory.Version publish(JobDirectory job, String name, long step, String checkpoint)
            throws IOException {
        JobDirectory.Version v = job.newVersion(name, step);
        Path staged = job.stage(v);
        Files.writeString(staged.resolve("model.zip"), "model of step " + step);
        Files.writeString(staged.resolve("manifest.json"), Json.write(Map.of("files", Map.of("model.zip", "ab12"),
                "lineage", JobDirectory.lineage("job-a", step, Optional.of(new Checkpoints.Checkpoint(
                        Path.of("/elsewhere/checkpoints", checkpoint), step, 10, 1))))));
        job.commit(v, staged);
        return v;
    }

    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Two publications of one step within the same second collided on a version named to the second. */
    @Test
    void twoVersionsPublishedInTheSameMillisecondGetDistinctNamesInTheOrderPublished() throws IOException {
        JobDirectory job = at(NOW);

        JobDirectory.Version first = publish(job, "lenet5", 3, "ckpt-000003-0000000030");
        JobDirectory.Version second = publish(job, "lenet5", 3, "ckpt-000003-0000000030");

        assertThat(first.id()).isEqualTo("20261205T033605123Z-step3");
        assertThat(second.id()).isNotEqualTo(first.id()).isGreaterThan(first.id());
        assertThat(job.versions("lenet5")).containsExactly(first, second);
        assertThat(job.latest("lenet5")).contains(second.id());
        assertThat(second.model()).hasContent("model of step 3");
    }

    @Test
    void aVersionSortsAfterEveryVersionThereIsEvenWhenTheClockWentBack() throws IOException {
        JobDirectory.Version before = publish(at(NOW), "lenet5", 2, "ckpt-000002-0000000020");
        Files.createDirectories(work.resolve("jobs/job-a/models/lenet5/20261205T033609Z-step2")); // named to the second
        Files.writeString(work.resolve("jobs/job-a/models/lenet5/20261205T033609Z-step2/manifest.json"), "{}");

        JobDirectory.Version after = at(NOW.minusSeconds(3600)).newVersion("lenet5", 3);

        assertThat(after.id()).isEqualTo("20261205T033610000Z-step3").isGreaterThan(before.id());
    }

    @Test
    void findsAVersionAStopLeftUnrecordedByItsLineageAndPointsLatestAtItAgain() throws IOException {
        JobDirectory job = at(NOW);
        publish(job, "lenet5", 1, "ckpt-000001-0000000010");
        JobDirectory.Version stopped = publish(job, "lenet5", 2, "ckpt-000002-0000000020");
        AtomicFiles.replaceLink(work.resolve("jobs/job-a/models/lenet5/latest"), Path.of("older"));

        Optional<JobDirectory.Earlier> found = job.publishedFrom("lenet5", 2, "ckpt-000002-0000000020");

        assertThat(found).contains(new JobDirectory.Earlier(stopped, "ab12"));
        assertThat(job.latest("lenet5")).contains(stopped.id());
        assertThat(job.publishedFrom("lenet5", 2, "ckpt-000002-0000000021")).isEmpty();
        assertThat(job.publishedFrom("other", 2, "ckpt-000002-0000000020")).isEmpty();
    }

    @Test
    void recordsThePublicationThatClosesTheJobAndReadsItBack() throws IOException {
        JobDirectory job = at(NOW);
        ModelPublished published = ModelPublished.withoutCost("lenet5", "20261205T033605123Z-step3", "/m/model.zip",
                "a".repeat(64), 0.9, 0.8);
        assertThat(job.published()).isEmpty();

        job.recordPublished(Event.of("job-a", 4, published));

        assertThat(job.published()).contains(published);
        assertThatThrownBy(
                () -> job.recordPublished(Event.of("job-a", 4, new JobFailed(4, "Finalize", 1, "no", "w1", false))))
                .hasMessageContaining("JobFailed");
        Files.writeString(work.resolve("jobs/job-a/published.json"), "{");
        assertThatThrownBy(job::published).isInstanceOf(IOException.class).hasMessageContaining("fix:");
    }

    @Test
    void keepsTheRecipeAndWhyTheJobWasCancelled() throws IOException {
        JobDirectory job = at(NOW);
        assertThat(job.exists()).isFalse();
        assertThat(job.recipe()).isEmpty();
        assertThat(job.cancelled()).isEmpty();

        job.writeRecipe("job: job-a\n");
        job.markCancelled("cancelled by alice\n");

        assertThat(job.exists()).isTrue();
        assertThat(job.recipe()).contains("job: job-a\n");
        assertThat(job.cancelled()).contains("cancelled by alice");
        assertThat(names(job.path())).containsExactly("cancelled.txt", "recipe.yaml");
    }

    @Test
    void removesWhatCrashedWritersLeftInTheJobAndItsPublicationsOnceAbandoned() throws IOException {
        JobDirectory job = at(NOW);
        publish(job, "lenet5", 1, "ckpt-000001-0000000010");
        Path models = work.resolve("jobs/job-a/models/lenet5");
        Path oldVersion = Files.createDirectories(models.resolve(".tmp-20261205T000000000Z-step1-1-2"));
        Path oldMarker = Files.writeString(job.path().resolve(".tmp-published.json-1-2"), "{");
        Path fresh = Files.createDirectories(models.resolve(".tmp-20261205T033605000Z-step2-1-3"));
        FileTime longAgo = FileTime.from(NOW.minus(AtomicFiles.ABANDONED).minusSeconds(1));
        Files.setLastModifiedTime(oldVersion, longAgo);
        Files.setLastModifiedTime(oldMarker, longAgo);
        Files.setLastModifiedTime(fresh, FileTime.from(NOW));

        job.removeAbandoned();

        assertThat(oldVersion).doesNotExist();
        assertThat(oldMarker).doesNotExist();
        assertThat(fresh).exists();
    }

    @Test
    void namesUnderTheJobAreOnePathSegmentEach() {
        assertThatThrownBy(() -> JobDirectory.in(work, "../escape")).hasMessageContaining("'../escape'")
                .hasMessageContaining("fix:");
        assertThatThrownBy(() -> at(NOW).writeRewind("a/b", f -> {})).hasMessageContaining("parameter 'a/b'");
        assertThatThrownBy(() -> at(NOW).newVersion(".hidden", 1)).hasMessageContaining("model name '.hidden'");
        assertThat(JobDirectory.in(work, "job-a").path()).isEqualTo(work.resolve("jobs/job-a"));
    }
}
