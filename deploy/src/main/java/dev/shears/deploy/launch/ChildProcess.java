package dev.shears.deploy.launch;

import dev.shears.common.process.Jvm;
import dev.shears.common.process.ParentWatch;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One Shears service (scheduler, worker) in its own JVM, started with this JVM's classpath as
 * {@code java ... dev.shears.deploy.cli.Shears <args>}. Its standard output and error go to a log file; {@link #start}
 * returns once a line matches the service's ready pattern, and fails with the log's tail when the process exits or the
 * time runs out first. The child exits with this JVM ({@link ParentWatch}), so a crashed launcher or test run leaves
 * nothing behind.
 *
 * <p>Thread-safe.
 */
public final class ChildProcess implements AutoCloseable {
    private static final int TAIL_LINES = 40;
    private static final String MAIN = "dev.shears.deploy.cli.Shears";

    private final String name;
    private final Process process;
    private final Path log;
    private final Deque<String> tail = new ArrayDeque<>();
    private final CompletableFuture<Matcher> ready = new CompletableFuture<>();
    private final OutputStream parentPipe;

    private ChildProcess(String name, Process process, Path log, Pattern readyLine) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.parentPipe = process.getOutputStream();
        Thread pump = new Thread(() -> pump(readyLine), "shears-child-" + name);
        pump.setDaemon(true);
        pump.start();
    }

    /**
     * Starts {@code shears <args>} in a new JVM and waits for its ready line.
     *
     * @param name a short name for messages and the thread, e.g. {@code worker-1}
     * @param args the command line after {@code shears}, e.g. {@code worker --bootstrap 127.0.0.1:9092}
     * @param jvmOptions options before the main class, e.g. {@code -Xmx2g}
     * @param env variables added to this JVM's environment
     * @param log the file its output is appended to (created with its folders)
     * @param readyLine the pattern of the line that says it is ready; {@link #ready()} gives its match
     * @param timeout how long it may take to print that line
     * @throws IllegalStateException when it exits or times out first (it is then killed), with the log's last lines
     */
    public static ChildProcess start(String name, List<String> args, List<String> jvmOptions, Map<String, String> env,
            Path log, Pattern readyLine, Duration timeout) {
        List<String> command = new ArrayList<>();
        command.add(Jvm.java());
        command.addAll(jvmOptions);
        command.add("-D" + ParentWatch.PROPERTY + "=true");
        ProcessBuilder builder = new ProcessBuilder();
        try {
            Files.createDirectories(log.toAbsolutePath().getParent());
            command.add(Jvm.classpathArgument(log.resolveSibling(log.getFileName() + ".jvm-args"), null));
            command.add(MAIN);
            command.addAll(args);
            Files.writeString(log, "===== shears: " + String.join(" ", args) + " =====\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            builder.command(command).redirectErrorStream(true).environment().putAll(env);
            ChildProcess child = new ChildProcess(name, builder.start(), log, readyLine);
            child.awaitReady(timeout);
            return child;
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + name + " (" + String.join(" ", args) + "): "
                    + e.getMessage(), e);
        }
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    public Path log() {
        return log;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Its exit status once it has exited; empty while it runs. */
    public OptionalInt exitCode() {
        return process.isAlive() ? OptionalInt.empty() : OptionalInt.of(process.exitValue());
    }

    /** The match of the ready line (its groups carry what the service announced, e.g. its URL). */
    public Matcher ready() {
        return ready.getNow(null);
    }

    /** Kills it with SIGKILL: no shutdown hook runs, nothing is flushed or committed. Waits until it is gone. */
    public void kill() {
        process.destroyForcibly();
        waitQuietly(Duration.ofSeconds(30));
    }

    /**
     * Stops it with SIGTERM, which runs its graceful shutdown, and waits up to {@code grace}; then kills it.
     *
     * @return its exit status
     */
    public int stop(Duration grace) {
        // Through the handle: Process.destroy() would also close our end of its output, losing its last lines.
        process.toHandle().destroy();
        if (!waitQuietly(grace)) {
            process.destroyForcibly();
            waitQuietly(Duration.ofSeconds(30));
        }
        return process.isAlive() ? -1 : process.exitValue();
    }

    /** The last lines it printed. */
    public String logTail() {
        synchronized (tail) {
            return String.join("\n", tail);
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            stop(Duration.ofSeconds(20));
        }
        try {
            parentPipe.close();
        } catch (IOException e) {
            // It has exited; nothing reads the pipe any more.
        }
    }

    @Override
    public String toString() {
        return name + "[pid " + process.pid() + (process.isAlive() ? "" : ", exited") + ", log " + log + "]";
    }

    private void awaitReady(Duration timeout) {
        try {
            ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            process.destroyForcibly();
            waitQuietly(Duration.ofSeconds(10));
            throw new IllegalStateException(name + " did not say it was ready within " + timeout.toSeconds()
                    + " s; killed it. Its log " + log + " ends with:\n" + logTail());
        } catch (ExecutionException e) {
            waitQuietly(Duration.ofSeconds(5));
            throw new IllegalStateException(name + " exited during start-up"
                    + (process.isAlive() ? "" : " with status " + process.exitValue()) + ". Its log " + log
                    + " ends with:\n" + logTail());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IllegalStateException("interrupted while starting " + name, e);
        }
    }

    private void pump(Pattern readyLine) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8));
                Writer out = Files.newBufferedWriter(log, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND)) {
            String line;
            while ((line = in.readLine()) != null) {
                out.write(line);
                out.write('\n');
                out.flush();
                synchronized (tail) {
                    tail.addLast(line);
                    if (tail.size() > TAIL_LINES) {
                        tail.removeFirst();
                    }
                }
                if (!ready.isDone()) {
                    Matcher m = readyLine.matcher(line);
                    if (m.find()) {
                        ready.complete(m);
                    }
                }
            }
        } catch (IOException e) {
            // The process has gone; what it printed last is in the tail.
        }
        ready.completeExceptionally(new IllegalStateException(name + " exited"));
    }

    private boolean waitQuietly(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
