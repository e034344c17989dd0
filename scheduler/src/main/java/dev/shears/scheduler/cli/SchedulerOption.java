package dev.shears.scheduler.cli;

import dev.shears.scheduler.ApiToken;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The {@code --scheduler URL} and {@code --token-file FILE} options the client commands share. A mixin. */
public final class SchedulerOption {

    /** Where the client commands find the scheduler when neither {@code --scheduler} nor the env variable says. */
    public static final String DEFAULT_URL = "http://127.0.0.1:8080";

    @Option(names = "--scheduler", paramLabel = "URL",
            defaultValue = "${env:SHEARS_SCHEDULER:-" + DEFAULT_URL + "}",
            description = "The scheduler's URL (default: $SHEARS_SCHEDULER, else " + DEFAULT_URL + ").")
    String url;

    @Mixin
    TokenOption token;

    SchedulerClient client() throws SchedulerClient.Failure {
        ApiToken apiToken;
        try {
            apiToken = token.token();
        } catch (IllegalArgumentException e) {
            throw new SchedulerClient.Failure(e.getMessage());
        }
        return new SchedulerClient(url, apiToken);
    }
}
