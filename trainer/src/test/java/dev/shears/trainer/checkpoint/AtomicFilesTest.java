package dev.shears.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    List<String> names() throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    Path directoryHolding(String name, String text) throws IOException {
        Path d = Files.createDirectories(dir.resolve(name));
        Files.writeString(d.resolve("file"), text);
        return d;
    }

    @Test
    void writeReplacesTheFileAndLeavesNothingElse() throws IOException {
        Path file = dir.resolve("nested/published.json");
        AtomicFiles.writeString(file, "first");
        AtomicFiles.writeString(file, "second");

        assertThat(file).hasContent("second");
        try (Stream<Path> list = Files.list(file.getParent())) {
            assertThat(list).containsExactly(file);
        }
    }

    @Test
    void aWriterThatFailsLeavesTheOldContentAndNoTemporaryFile() throws IOException {
        Path file = dir.resolve("recipe.yaml");
        AtomicFiles.writeString(file, "old");

        assertThatThrownBy(() -> AtomicFiles.write(file, tmp -> {
            Files.writeString(tmp, "half");
            throw new IOException("disk full");
        })).hasMessage("disk full");
        assertThat(file).hasContent("old");
        assertThat(names()).containsExactly("recipe.yaml");
    }

    @Test
    void aCommittedDirectoryIsNeverReplacedByACommit() throws IOException {
        directoryHolding("v1", "published");
        Path staged = directoryHolding(".tmp-v1-1", "other");

        assertThatThrownBy(() -> AtomicFiles.commitDirectory(staged, dir.resolve("v1")))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(dir.resolve("v1/file")).hasContent("published");
    }

    @Test
    void replacingADirectoryLeavesTheNewOneAndNothingAside() throws IOException {
        directoryHolding("ckpt", "old");
        Path staged = directoryHolding(".tmp-ckpt-1", "new");

        AtomicFiles.replaceDirectory(staged, dir.resolve("ckpt"));

        assertThat(dir.resolve("ckpt/file")).hasContent("new");
        assertThat(names()).containsExactly("ckpt");
    }

    @Test
    void aReplacementACrashInterruptedBetweenItsRenamesIsUndoneAndOneThatFinishedIsCleanedUp() throws IOException {
        directoryHolding(AtomicFiles.REPLACED + "ckpt-a-17", "old a"); // crashed before the new one was renamed in
        directoryHolding(AtomicFiles.REPLACED + "ckpt-b-18", "old b"); // crashed before deleting the old one
        directoryHolding("ckpt-b", "new b");

        AtomicFiles.recoverReplaced(dir);

        assertThat(names()).containsExactly("ckpt-a", "ckpt-b");
        assertThat(dir.resolve("ckpt-a/file")).hasContent("old a");
        assertThat(dir.resolve("ckpt-b/file")).hasContent("new b");
    }

    @Test
    void removesOnlyTemporaryEntriesUntouchedForLongerThanAnyWrite() throws IOException {
        Instant now = Instant.now();
        Path old = directoryHolding(".tmp-v1-1", "crashed");
        Files.setLastModifiedTime(old, FileTime.from(now.minus(AtomicFiles.ABANDONED).minusSeconds(1)));
        directoryHolding(".tmp-v2-2", "being written");
        Path stale = Files.writeString(dir.resolve("stale"), "not temporary");
        Files.setLastModifiedTime(stale, FileTime.from(now.minus(AtomicFiles.ABANDONED).minusSeconds(1)));

        AtomicFiles.removeAbandoned(dir, now);

        assertThat(names()).containsExactly(".tmp-v2-2", "stale");
    }

    @Test
    void pointsALinkAtItsNewTargetInOneStep() throws IOException {
        Path link = dir.resolve("latest");
        AtomicFiles.replaceLink(link, Path.of("v1"));
        AtomicFiles.replaceLink(link, Path.of("v2"));

        assertThat(Files.readSymbolicLink(link)).isEqualTo(Path.of("v2"));
        assertThat(names()).containsExactly("latest");
    }
}
