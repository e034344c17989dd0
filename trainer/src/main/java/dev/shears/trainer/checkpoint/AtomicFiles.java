package dev.shears.trainer.checkpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.stream.Stream;

/**
 * The one way the trainer writes what must survive a crash: under a temporary name beside the target, flushed to disk
 * ({@code fsync}), renamed onto the target in one atomic step, and the rename flushed too (the parent directory
 * {@code fsync}ed). A crash at any moment leaves the old content or the new, never a mix, and what a call wrote
 * survives a power loss once it returns. Temporary names start with {@value #TEMPORARY}; {@link #removeAbandoned}
 * deletes those a crashed writer left.
 *
 * <p>The target's directory must be on a file system that renames atomically (local, NFSv4, most
 * {@code ReadWriteMany} volumes); a directory that cannot be synced (some file systems refuse) is left to the rename's
 * own atomicity.
 */
public final class AtomicFiles {
    /** The prefix of every temporary file and directory. */
    public static final String TEMPORARY = ".tmp-";
    /** How long a temporary file or directory is left before it counts as abandoned: far longer than any write. */
    public static final Duration ABANDONED = Duration.ofHours(1);
    /** The prefix under which {@link #replaceDirectory} keeps the directory it replaces until the new one is in place. */
    static final String REPLACED = ".replaced-";

    /** Writes one file at the path it is given. */
    @FunctionalInterface
    public interface Writer {
        void write(Path file) throws IOException;
    }

    private AtomicFiles() {}

    /** Replaces {@code file} by {@code bytes}, atomically and durably. */
    public static void write(Path file, byte[] bytes) throws IOException {
        write(file, tmp -> Files.write(tmp, bytes));
    }

    /** Replaces {@code file} by {@code text} in UTF-8, atomically and durably. */
    public static void writeString(Path file, String text) throws IOException {
        write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Replaces {@code file} by what {@code writer} writes, atomically and durably: the writer writes a temporary file
     * beside it, which is flushed and renamed onto {@code file}. When the writer fails, {@code file} is untouched and
     * the temporary file is deleted.
     */
    public static void write(Path file, Writer writer) throws IOException {
        Path dir = createDirectories(parentOf(file));
        Path tmp = temporary(file);
        try {
            writer.write(tmp);
            fsync(tmp);
            move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            fsyncDirectory(dir);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** A fresh temporary name beside {@code target}: {@code .tmp-<name>-<pid>-<nanos>}, not created. */
    public static Path temporary(Path target) {
        return parentOf(target).resolve(TEMPORARY + target.getFileName() + "-" + ProcessHandle.current().pid() + "-"
                + System.nanoTime());
    }

    /**
     * Commits a directory written under a {@link #temporary} name as {@code target}: flushes every file in it and
     * itself, renames it, and flushes the parent.
     *
     * @throws FileAlreadyExistsException when {@code target} exists (nothing is replaced then)
     */
    public static void commitDirectory(Path staged, Path target) throws IOException {
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(target.toString(), null, "a committed directory is never replaced"
                    + " by commitDirectory (fix: a new name, or replaceDirectory)");
        }
        fsyncTree(staged);
        move(staged, target);
        fsyncDirectory(parentOf(target));
    }

    /**
     * {@link #commitDirectory} over an existing {@code target}: the old one is renamed aside first and deleted once the
     * new one is in place, so that there is never a moment with neither on disk. A crash between the two renames
     * leaves the old one aside; {@link #recoverReplaced} puts it back.
     */
    public static void replaceDirectory(Path staged, Path target) throws IOException {
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            commitDirectory(staged, target);
            return;
        }
        fsyncTree(staged);
        Path aside = parentOf(target).resolve(REPLACED + target.getFileName() + "-" + System.nanoTime());
        move(target, aside);
        move(staged, target);
        fsyncDirectory(parentOf(target));
        deleteTree(aside);
    }

    /**
     * Finishes what a crash inside {@link #replaceDirectory} left in {@code dir}: a directory set aside whose
     * replacement is in place is deleted; one whose replacement never arrived is put back. Call it only while no
     * replacement runs in {@code dir} (under the job's lock, or in the only process).
     */
    public static void recoverReplaced(Path dir) throws IOException {
        for (Path aside : entries(dir, REPLACED)) {
            String rest = aside.getFileName().toString().substring(REPLACED.length());
            Path target = dir.resolve(rest.substring(0, rest.lastIndexOf('-')));
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                deleteTree(aside);
            } else {
                move(aside, target);
                fsyncDirectory(dir);
            }
        }
    }

    /** Points the symbolic link {@code link} at {@code target} (relative or absolute), replacing it atomically. */
    public static void replaceLink(Path link, Path target) throws IOException {
        Path dir = parentOf(link);
        Path tmp = temporary(link);
        try {
            Files.createSymbolicLink(tmp, target);
            move(tmp, link, StandardCopyOption.REPLACE_EXISTING);
            fsyncDirectory(dir);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * {@link Files#createDirectories}, with each directory it creates made durable (its parent flushed), so that a
     * file committed inside stays reachable after a power loss.
     */
    public static Path createDirectories(Path dir) throws IOException {
        Deque<Path> missing = new ArrayDeque<>();
        for (Path p = dir.toAbsolutePath(); p != null && !Files.isDirectory(p); p = p.getParent()) {
            missing.push(p);
        }
        for (Path p : missing) {
            try {
                Files.createDirectory(p);
            } catch (FileAlreadyExistsException e) {
                if (!Files.isDirectory(p)) {
                    throw e;
                }
            }
            fsyncDirectory(p.getParent());
        }
        return dir;
    }

    /**
     * Deletes the temporary files and directories in {@code dir} last modified more than {@link #ABANDONED} before
     * {@code now}: the leftovers of writers that crashed, never a write in progress (on this machine or another one
     * sharing the directory).
     */
    public static void removeAbandoned(Path dir, Instant now) throws IOException {
        long cutoff = now.minus(ABANDONED).toEpochMilli();
        for (Path p : entries(dir, TEMPORARY)) {
            try {
                if (Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis() < cutoff) {
                    deleteTree(p);
                }
            } catch (IOException e) {
                // gone already, or another process cleans it: either way not ours to report
            }
        }
    }

    /** The entries of {@code dir} whose names start with {@code prefix}; none when {@code dir} is absent. */
    static List<Path> entries(Path dir, String prefix) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(p -> p.getFileName().toString().startsWith(prefix)).sorted().toList();
        }
    }

    /** Deletes {@code root} and everything under it, without following links; nothing when it is absent. */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Flushes every regular file under {@code root}, then each directory, deepest first. */
    static void fsyncTree(Path root) throws IOException {
        List<Path> all;
        try (Stream<Path> walk = Files.walk(root)) {
            all = walk.sorted(Comparator.reverseOrder()).toList();
        }
        for (Path p : all) {
            if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                fsync(p);
            } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                fsyncDirectory(p);
            }
        }
    }

    static void fsync(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
    }

    static void fsyncDirectory(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Some file systems cannot sync a directory; the rename is still atomic there.
        }
    }

    private static void move(Path from, Path to, StandardCopyOption... options) throws IOException {
        StandardCopyOption[] all = Stream.concat(Stream.of(StandardCopyOption.ATOMIC_MOVE), Stream.of(options))
                .toArray(StandardCopyOption[]::new);
        try {
            Files.move(from, to, all);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system of " + parentOf(to) + " cannot rename atomically (fix: put the"
                    + " work directory on a local or POSIX file system)", e);
        }
    }

    private static Path parentOf(Path p) {
        Path parent = p.toAbsolutePath().getParent();
        if (parent == null) {
            throw new IllegalArgumentException(p + " has no parent directory (fix: a file or directory under one)");
        }
        return parent;
    }
}
