package dev.shears.deploy.faults;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Makes a directory unwritable and writable again, for the process that owns it and for root alike: root writes
 * through permissions, so as root the directory is made immutable ({@code chattr +i}, which ext4 and xfs support),
 * otherwise its write permission is removed. Nothing can be created, renamed or removed in it; reading works.
 */
final class ReadOnly {
    private static final boolean ROOT = "root".equals(System.getProperty("user.name"));

    private ReadOnly() {}

    static void set(Path dir, boolean readOnly) {
        try {
            if (ROOT) {
                Process p = new ProcessBuilder("chattr", readOnly ? "+i" : "-i", dir.toString())
                        .redirectErrorStream(true)
                        .start();
                String out = new String(p.getInputStream().readAllBytes());
                if (p.waitFor() != 0) {
                    throw new IllegalStateException("chattr " + (readOnly ? "+i " : "-i ") + dir + " failed: " + out
                            + " (fix: run the tests as a user other than root, or on a file system with chattr)");
                }
            } else {
                Files.setPosixFilePermissions(dir,
                        PosixFilePermissions.fromString(readOnly ? "r-xr-xr-x" : "rwxr-xr-x"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Whether a file can be created in {@code dir} now. */
    static boolean writable(Path dir) {
        try {
            Files.delete(Files.createTempFile(dir, ".probe-", ""));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
