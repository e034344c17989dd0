package dev.shears.trainer.worker;

import dev.shears.trainer.checkpoint.JobDirectory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The fence around a job's directory: one worker at a time applies a command to a job. A worker
 * that lost a job's partition may still be finishing a step of it (a "zombie": its session timed
 * out while it trained) when the partition's new owner starts the same command; without this lock
 * both would apply it. With it, the new owner waits, then finds the zombie's checkpoint and
 * acknowledges the command as a redelivery, or, if the zombie stopped, applies it once.
 *
 * <p>An exclusive lock on the job's {@link JobDirectory#lockFile()} ({@link FileChannel#tryLock()}: {@code fcntl}
 * locks, released by the kernel when a holder dies, SIGKILL included), so the work directory must
 * be on a file system whose locks all workers see: a local one, or NFSv4 and the like. The file
 * names its holder, for the message of whoever waits.
 */
final class JobLock implements AutoCloseable {
    private static final Duration RETRY = Duration.ofMillis(20);

    private final FileChannel channel;
    private final FileLock lock;

    private JobLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock of {@code job} (its directory is created when absent), waiting while another
     * worker holds it.
     *
     * @param holder who takes it, written into the file (e.g. {@code worker-2})
     * @param stop checked while waiting
     * @param waiting told once, with the current holder, when the lock is not free at once
     * @throws CancellationException when {@code stop} held while waiting
     * @throws IOException when the lock file cannot be opened or locked
     */
    static JobLock acquire(JobDirectory job, String holder, BooleanSupplier stop, Consumer<String> waiting)
            throws IOException {
        job.create();
        Path file = job.lockFile();
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        boolean told = false;
        try {
            while (true) {
                FileLock lock;
                try {
                    lock = channel.tryLock();
                } catch (OverlappingFileLockException heldInThisJvm) {
                    lock = null;
                }
                if (lock != null) {
                    byte[] who = (holder + " (pid " + ProcessHandle.current().pid() + ") since " + Instant.now() + "\n")
                            .getBytes(StandardCharsets.UTF_8);
                    channel.truncate(0);
                    channel.write(ByteBuffer.wrap(who), 0);
                    return new JobLock(channel, lock);
                }
                if (stop.getAsBoolean()) {
                    throw new CancellationException("stopped while waiting for the lock of " + job.path());
                }
                if (!told) {
                    told = true;
                    waiting.accept(holderOf(file));
                }
                try {
                    Thread.sleep(RETRY.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CancellationException("interrupted while waiting for the lock of " + job.path());
                }
            }
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static String holderOf(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            return text.isEmpty() ? "another worker" : text;
        } catch (IOException e) {
            return "another worker";
        }
    }

    /** Releases the lock. */
    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
