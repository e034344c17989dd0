package dev.shears.common.events;

/**
 * How far the step in progress is, sent now and then while it trains; for dashboards and
 * watchers, never deduplicated or acted upon.
 *
 * @param seq the seq of the command in progress, at least 0
 * @param fraction of the step done, in [0, 1]
 * @param samplesPerSecond training throughput since the last progress report, finite, at least 0
 * @param worker the worker running the step
 */
public record JobProgress(long seq, double fraction, double samplesPerSecond, String worker) implements Report {

    /** @throws IllegalArgumentException when a field is out of range */
    public JobProgress {
        Check c = new Check("JobProgress");
        c.range("seq", seq, 0, Long.MAX_VALUE, "the seq of the command in progress");
        c.range("fraction", fraction, 0, 1, true, "done / total iterations of the step");
        c.nonNegative("samplesPerSecond", samplesPerSecond, "training samples per second, e.g. 2400");
        c.token("worker", worker, "trainer-0");
    }
}
