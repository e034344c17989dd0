package dev.shears.scheduler.cli;

import dev.shears.scheduler.ApiToken;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --token-file FILE}, the scheduler's API token, with {@code $SHEARS_TOKEN} in its place when not given: the same
 * option on the scheduler (which then asks every request but {@code /health} for it) and on its clients (which send
 * it). A picocli mixin.
 */
public final class TokenOption {

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "A file holding the scheduler's API token; the scheduler asks every request but /health for"
                    + " it (default: $" + ApiToken.ENV + ", else none: keep the scheduler's --http-host on loopback).")
    Path file;

    /**
     * The token in {@code --token-file}, else in {@code $SHEARS_TOKEN} when it is set and not blank, else null (none).
     *
     * @throws IllegalArgumentException when the file cannot be read or holds no usable token, naming the file and the
     *                                  fix (never the token)
     */
    public ApiToken token() {
        String env = System.getenv(ApiToken.ENV);
        return file != null ? ApiToken.read(file) : env != null && !env.isBlank() ? ApiToken.of(env.strip()) : null;
    }
}
