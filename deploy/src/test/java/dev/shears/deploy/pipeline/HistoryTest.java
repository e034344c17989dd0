package dev.shears.deploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shears.common.events.Event;
import dev.shears.common.events.JobStarted;
import dev.shears.common.events.ModelPublished;
import dev.shears.common.events.StepCompleted;
import dev.shears.trainer.checkpoint.Checkpoints;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit's count of publications on disk: what a crash between writing a version and reporting it leaves behind is
 * seen there, not in the events.
 */
class HistoryTest {
    @TempDir
    Path dir;

    final List<Event> commands = List.of(Event.of("job", 0, new JobStarted("job: job", 1)));

    /** {@code <dir>/models/job/<version>/} as the publisher writes it; the model file's digest. */
    String version(String version, String manifestDigest) throws IOException {
        Path v = Files.createDirectories(dir.resolve("models/job").resolve(version));
        Path model = Files.writeString(v.resolve("model.zip"), "model " + version, StandardCharsets.UTF_8);
        String sha = Checkpoints.sha256(model);
        Files.writeString(v.resolve("manifest.json"), """
                {"name": "job", "version": "%s", "files": {"model.zip": "%s"}}""".formatted(version,
                manifestDigest == null ? sha : manifestDigest));
        Path latest = dir.resolve("models/job/latest");
        Files.deleteIfExists(latest);
        Files.createSymbolicLink(latest, Path.of(version));
        return sha;
    }

    List<Event> reports(String version, String sha) {
        return List.of(Event.of("job", 0, new StepCompleted(0, 1, 0, 0, Map.of(), 0.8, 0.8, 0.5, "ckpt-0", "w", false)),
                Event.of("job", 1, ModelPublished.withoutCost("job", version, dir.resolve("models/job").resolve(version)
                        .resolve("model.zip").toString(), sha, 0.8, 0)));
    }

    @Test
    void oneVersionOnDiskForOnePublicationPasses() throws IOException {
        String sha = version("20261123T120000Z-step0", null);
        Files.createDirectories(dir.resolve("models/job/.tmp-20261123T115900Z-step0")); // a publication killed midway

        History.Audit a = History.audit("job", commands, reports("20261123T120000Z-step0", sha), 0);

        assertThat(a.versionsOnDisk()).containsExactly("20261123T120000Z-step0");
        assertThat(a.duplicated()).isZero();
        History.assertExactlyOnce(a, 0, 10, 0);
    }

    @Test
    void aSecondVersionOnDiskIsADuplicateThoughOnlyOneWasReported() throws IOException {
        version("20261123T115900Z-step0", null);
        String sha = version("20261123T120000Z-step0", null);

        History.Audit a = History.audit("job", commands, reports("20261123T120000Z-step0", sha), 0);

        assertThat(a.publications()).hasSize(1);
        assertThat(a.duplicated()).isEqualTo(1);
        assertThatThrownBy(() -> History.assertExactlyOnce(a, 0, 10, 0)).isInstanceOf(AssertionError.class)
                .hasMessageContaining("the version directories in");
    }

    @Test
    void aManifestWhoseDigestIsNotTheReportedOneFails() throws IOException {
        String sha = version("20261123T120000Z-step0", "0".repeat(64));

        History.Audit a = History.audit("job", commands, reports("20261123T120000Z-step0", sha), 0);

        assertThatThrownBy(() -> History.assertExactlyOnce(a, 0, 10, 0)).isInstanceOf(AssertionError.class)
                .hasMessageContaining("the manifest's digest of model.zip");
    }
}
