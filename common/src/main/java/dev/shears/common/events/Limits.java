package dev.shears.common.events;

/** The bounds that several payloads share. */
final class Limits {

    /** The most pruning steps a schedule has (as the recipes' {@code schedule.steps}). */
    static final int MAX_STEPS = 10_000;
    /** The most fine-tuning iterations one command asks for: a bound that catches unit mistakes. */
    static final long MAX_ITERATIONS = 1_000_000_000L;
    /** The highest attempt number: far more redos than any job makes. */
    static final int MAX_ATTEMPT = 1_000_000;
    /** Free text: a reason, a detail; in bytes of UTF-8. */
    static final int TEXT = 16_384;
    /** A recipe inside {@link JobStarted}, in bytes of UTF-8; the whole event must stay under {@link EventCodec#MAX_BYTES}. */
    static final int RECIPE_BYTES = 512 * 1024;
    /** A file path or URI. */
    static final int PATH = 4096;
    /** A parameter's name in a per-layer map. */
    static final int PARAMETER = 256;

    private Limits() {}
}
