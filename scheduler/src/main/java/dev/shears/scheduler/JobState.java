package dev.shears.scheduler;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * Where a job is: {@code submitted} (JobStarted sent, no worker has answered yet), {@code
 * pretraining} (a worker trains it dense), {@code pruning} (schedule steps), {@code finalizing}
 * (Finalize sent), then one of the ends {@code published}, {@code failed}, {@code cancelled}.
 */
public enum JobState {
    SUBMITTED, PRETRAINING, PRUNING, FINALIZING, PUBLISHED, FAILED, CANCELLED;

    /** Whether the job has ended and takes no more reports or commands. */
    public boolean ended() {
        return this == PUBLISHED || this == FAILED || this == CANCELLED;
    }

    /** The JSON and metric spelling, e.g. {@code pruning}. */
    @JsonValue
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    static JobState of(String label) {
        return valueOf(label.toUpperCase(Locale.ROOT));
    }
}
