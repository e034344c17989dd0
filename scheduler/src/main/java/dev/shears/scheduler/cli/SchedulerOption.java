package dev.shears.scheduler.cli;

import picocli.CommandLine.Option;

/** The {@code --scheduler URL} option the client commands share. */
public final class SchedulerOption {

    /** Where the client commands find the scheduler when neither {@code --scheduler} nor the env variable says. */
    public static final String DEFAULT_URL = "http://127.0.0.1:8080";

    @Option(names = "--scheduler", paramLabel = "URL",
            defaultValue = "${env:SHEARS_SCHEDULER:-" + DEFAULT_URL + "}",
            description = "The scheduler's URL (default: $SHEARS_SCHEDULER, else " + DEFAULT_URL + ").")
    String url;

    SchedulerClient client() throws SchedulerClient.Failure {
        return new SchedulerClient(url);
    }
}
