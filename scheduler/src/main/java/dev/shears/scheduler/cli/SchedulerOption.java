package dev.shears.scheduler.cli;

import dev.shears.scheduler.ApiToken;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --scheduler URL} and {@code --token-file FILE} options the client commands share. */
public final class SchedulerOption {

    /** Where the client commands find the scheduler when neither {@code --scheduler} nor the env variable says. */
    public static final String DEFAULT_URL = "http://127.0.0.1:8080";

    @Option(names = "--scheduler", paramLabel = "URL",
            defaultValue = "${env:SHEARS_SCHEDULER:-" + DEFAULT_URL + "}",
            description = "The scheduler's URL (default: $SHEARS_SCHEDULER, else " + DEFAULT_URL + ").")
    String url;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "A file holding the scheduler's API token (default: $" + ApiToken.ENV + ", else none).")
    Path tokenFile;

    SchedulerClient client() throws SchedulerClient.Failure {
        return new SchedulerClient(url, token(tokenFile, System.getenv(ApiToken.ENV)));
    }

    /** The token of {@code file}, else of {@code env} when set, else null. */
    static ApiToken token(Path file, String env) throws SchedulerClient.Failure {
        try {
            return file != null ? ApiToken.read(file) : env != null && !env.isBlank() ? ApiToken.of(env.strip()) : null;
        } catch (IllegalArgumentException e) {
            throw new SchedulerClient.Failure(e.getMessage());
        }
    }
}
