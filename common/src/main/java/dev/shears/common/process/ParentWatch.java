package dev.shears.common.process;

import java.io.IOException;
import java.io.InputStream;

/**
 * Ties a child process's life to its parent's: with {@code -Dshears.exitWithParent=true} the child exits (through
 * its shutdown hooks, so cleanly) when its standard input reaches end of file, which happens when the JVM that
 * started it exits, however it exits, SIGKILL included. No orphaned broker, scheduler or worker keeps a port, a
 * consumer group membership or a data directory after a crashed test run or launcher.
 */
public final class ParentWatch {

    /** The system property that turns the watch on. */
    public static final String PROPERTY = "shears.exitWithParent";

    private ParentWatch() {}

    /** Starts the watch when {@value #PROPERTY} is {@code true}; does nothing otherwise. */
    public static void startIfAsked() {
        if (!Boolean.getBoolean(PROPERTY)) {
            return;
        }
        Thread watcher = new Thread(() -> {
            InputStream in = System.in;
            byte[] buffer = new byte[256];
            try {
                while (in.read(buffer) >= 0) {
                    // The parent never writes; anything it might is ignored.
                }
            } catch (IOException e) {
                // Treated as end of input.
            }
            System.err.println("shears: standard input closed (the process that started this one stopped it or exited);"
                    + " shutting down");
            System.exit(0);
        }, "shears-parent-watch");
        watcher.setDaemon(true);
        watcher.start();
    }
}
