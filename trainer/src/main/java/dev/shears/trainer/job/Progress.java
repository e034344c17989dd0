package dev.shears.trainer.job;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress display for long training phases: a bar, the fraction done, throughput and
 * the time left. Redrawn in place on a terminal; on a pipe or file, one line per 10 %. One thread
 * trains and ticks; others may read {@link #fraction()} and {@link #samplesPerSecond()}.
 */
public final class Progress {
    private final PrintStream out;
    private final boolean terminal;
    private volatile String label = "";
    private volatile long total;
    private volatile long done;
    private volatile long started;
    /** When {@link #finish} was called for the current phase, if {@link #ended}. */
    private volatile long finished;
    private volatile boolean ended;
    private long lastDraw;
    private int lastDecile = -1;
    private int batchSize = 1;

    public Progress(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    /** A display on standard error, redrawn in place when a console is attached. */
    public static Progress console() {
        return new Progress(System.err, System.console() != null);
    }

    /** A display that shows nothing. */
    public static Progress silent() {
        return new Progress(new PrintStream(java.io.OutputStream.nullOutputStream()), false);
    }

    public void start(String label, long total, int batchSize) {
        this.label = label;
        this.total = Math.max(1, total);
        this.done = 0;
        this.batchSize = batchSize;
        this.started = System.nanoTime();
        this.ended = false;
        this.lastDraw = 0;
        this.lastDecile = -1;
    }

    public void tick() {
        done++;
        long now = System.nanoTime();
        int decile = (int) (10 * done / total);
        if (terminal ? now - lastDraw > 250_000_000L || done == total : decile != lastDecile) {
            lastDraw = now;
            lastDecile = decile;
            draw(now, done == total);
        }
    }

    /**
     * Training samples per second from {@link #start} to {@link #finish} (to now while the phase runs): what
     * happens after {@code finish}, such as an evaluation, does not count.
     */
    public double samplesPerSecond() {
        double seconds = ((ended ? finished : System.nanoTime()) - started) / 1e9;
        return seconds <= 0 ? 0 : done * (double) batchSize / seconds;
    }

    /** The fraction of the current phase done, in [0, 1]. */
    public double fraction() {
        long t = total;
        return t <= 0 ? 0 : Math.min(1, (double) done / t);
    }

    /** The current phase's label. */
    public String label() {
        return label;
    }

    /** Ends the phase: its throughput is fixed from now on. */
    public void finish() {
        if (!ended) {
            finished = System.nanoTime();
            ended = true;
        }
        if (terminal) {
            out.print("\r\033[K");
            out.flush();
        }
    }

    private void draw(long now, boolean last) {
        double fraction = (double) done / total;
        int width = 24;
        int filled = (int) Math.round(fraction * width);
        double seconds = (now - started) / 1e9;
        double left = fraction > 0 ? seconds * (1 - fraction) / fraction : 0;
        String line = String.format(Locale.ROOT, "%-22s [%s%s] %3.0f%%  %,7.0f samples/s  %s left",
                label, "#".repeat(filled), ".".repeat(width - filled), 100 * fraction, samplesPerSecond(),
                formatSeconds(left));
        if (terminal) {
            out.print("\r\033[K" + line);
        } else if (!last || fraction >= 1) {
            out.println(line);
        }
        out.flush();
    }

    static String formatSeconds(double s) {
        long total = Math.round(s);
        return total >= 60 ? String.format(Locale.ROOT, "%dm%02ds", total / 60, total % 60) : total + "s";
    }
}
