package dev.shears.bench;

import dev.shears.common.events.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * {@code --workers}, {@code --dense-hold-seconds}, {@code --hold-seconds} and {@code --progress-seconds}: a group of
 * slow {@link FakeWorker}s, which hold every step as long as a trained one would and report progress meanwhile. A
 * picocli mixin.
 */
final class SlowWorkers {
    @Option(names = "--workers", defaultValue = "2",
            description = "fake workers in the group (default ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--dense-hold-seconds", defaultValue = "180",
            description = "each dense step's time, longer than the submission (default ${DEFAULT-VALUE})")
    int denseHoldSeconds;

    @Option(names = "--hold-seconds", defaultValue = "30",
            description = "each pruning step's time (default ${DEFAULT-VALUE})")
    int holdSeconds;

    @Option(names = "--progress-seconds", defaultValue = "2", description = "progress every (default ${DEFAULT-VALUE})")
    int progressSeconds;

    /** Starts the group, {@code slow-worker-1} ... in group {@code shears-workers-<topic prefix>}, on {@code topics}. */
    List<FakeWorker> start(String bootstrap, Topics topics) {
        List<FakeWorker> out = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            out.add(FakeWorker.slow(bootstrap, topics, "shears-workers-" + topics.prefix(), "slow-worker-" + i,
                    Duration.ofSeconds(denseHoldSeconds), Duration.ofSeconds(holdSeconds),
                    Duration.ofSeconds(progressSeconds)));
        }
        return out;
    }

    /** {@code dense_hold_s=... hold_s=... progress_s=... workers=...}, for a benchmark's result line. */
    String describe() {
        return String.format(Locale.ROOT, "dense_hold_s=%d hold_s=%d progress_s=%d workers=%d", denseHoldSeconds,
                holdSeconds, progressSeconds, count);
    }
}
