package dev.shears.scheduler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.common.events.ModelPublished;
import java.io.PrintWriter;
import java.util.Locale;

/** How the client commands print jobs for humans. */
final class Views {

    /** Exit codes of the client commands. */
    static final int OK = 0;
    static final int REQUEST_FAILED = 1;
    static final int JOB_FAILED = 3;
    static final int JOB_CANCELLED = 4;

    private static final int BAR = 20;
    private static final String RESULT_FORMAT = "%5s %8s %8s %9s %9s %9s  %s%n";

    private Views() {}

    static boolean ended(JsonNode job) {
        String s = job.path("state").asText();
        return s.equals("published") || s.equals("failed") || s.equals("cancelled");
    }

    static int exitCode(JsonNode job) {
        return switch (job.path("state").asText()) {
            case "published" -> OK;
            case "cancelled" -> JOB_CANCELLED;
            default -> JOB_FAILED;
        };
    }

    static void jobsTable(PrintWriter out, JsonNode jobs) {
        String format = "%-28s %-12s %-8s %-8s %-9s %-9s %-9s %-14s %s%n";
        out.printf(Locale.ROOT, format, "JOB", "STATE", "STEP", "TARGET", "ACHIEVED", "VAL ACC", "TEST ACC", "WORKER",
                "UPDATED");
        for (JsonNode j : jobs) {
            out.printf(Locale.ROOT, format, j.path("job").asText(), j.path("state").asText(), stepText(j),
                    num(j.path("targetSparsity")), num(j.path("achievedSparsity")), num(j.path("accuracy")),
                    num(j.path("testAccuracy")), text(j.path("worker")), text(j.path("updated")));
        }
        if (jobs.isEmpty()) {
            out.println("(no jobs: submit one with ./shears submit RECIPE.yaml)");
        }
        out.flush();
    }

    static void status(PrintWriter out, JsonNode j) {
        out.printf(Locale.ROOT, "job       %s%n", j.path("job").asText());
        out.printf(Locale.ROOT, "state     %s%n", j.path("state").asText());
        out.printf(Locale.ROOT, "step      %s (attempt %s)%n", stepText(j), j.path("attempt").asText());
        out.printf(Locale.ROOT, "sparsity  target %s, achieved %s%n", num(j.path("targetSparsity")),
                num(j.path("achievedSparsity")));
        out.printf(Locale.ROOT, "accuracy  validation %s (dense %s; decides the budget), test %s%n",
                num(j.path("accuracy")), num(j.path("denseAccuracy")), num(j.path("testAccuracy")));
        out.printf(Locale.ROOT, "worker    %s%n", text(j.path("worker")));
        out.printf(Locale.ROOT, "submitted %s, updated %s%n", text(j.path("submitted")), text(j.path("updated")));
        if (!j.path("failure").isNull() && !j.path("failure").isMissingNode()) {
            out.printf(Locale.ROOT, "failure   %s%n", j.path("failure").asText());
        }
        progress(out, j);
        JsonNode results = j.path("results");
        if (results.isArray() && !results.isEmpty()) {
            out.println();
            resultsHeader(out);
            results.forEach(r -> resultRow(out, r));
        }
        publication(out, j);
        out.flush();
    }

    /** The running step's progress bar, when a worker reports one. */
    static void progress(PrintWriter out, JsonNode j) {
        JsonNode p = j.path("progress");
        if (!p.isObject()) {
            return;
        }
        double fraction = Math.max(0, Math.min(1, p.path("fraction").asDouble()));
        int filled = (int) Math.round(fraction * BAR);
        long seq = p.path("seq").asLong();
        String what = seq == 0 ? "dense pre-training" : "step " + seq + "/" + j.path("steps").asText() + " fine-tune";
        out.printf(Locale.ROOT, "now       %-22s [%s%s] %3.0f %%  %,.0f samples/s  %s%n", what, "#".repeat(filled),
                "-".repeat(BAR - filled), 100 * fraction, p.path("samplesPerSecond").asDouble(),
                p.path("worker").asText());
    }

    static void resultsHeader(PrintWriter out) {
        out.printf(Locale.ROOT, RESULT_FORMAT, "SEQ", "ATTEMPT", "TARGET", "ACHIEVED", "VAL ACC", "TEST ACC",
                "DECISION");
    }

    static void resultRow(PrintWriter out, JsonNode r) {
        out.printf(Locale.ROOT, RESULT_FORMAT, r.path("seq").asText(), r.path("attempt").asText(),
                num(r.path("targetSparsity")), num(r.path("achievedSparsity")), num(r.path("accuracy")),
                num(r.path("testAccuracy")), r.path("decision").asText());
    }

    /** Where the model went, once published. */
    static void publication(PrintWriter out, JsonNode j) {
        JsonNode p = j.path("publication");
        if (p.isObject()) {
            out.println();
            out.printf(Locale.ROOT, "published %s version %s: sparsity %s, test accuracy %s%n", p.path("name").asText(),
                    p.path("version").asText(), num(p.path("sparsity")), num(p.path("accuracy")));
            out.printf(Locale.ROOT, "path      %s%n", p.path("path").asText());
            out.printf(Locale.ROOT, "sha256    %s%n", p.path("sha256").asText());
            if (p.path("denseFlops").asLong() > 0) {
                out.println();
                out.printf(Locale.ROOT, "%-20s %14s %14s%n", "", "dense", "published");
                out.printf(Locale.ROOT, "%-20s %14s %14s%n", "FLOPs / example", mega(p.path("denseFlops")),
                        mega(p.path("flops")));
                out.printf(Locale.ROOT, "%-20s %14d %14d%n", "parameters", p.path("denseParameters").asLong(),
                        p.path("parameters").asLong());
                out.printf(Locale.ROOT, "%-20s %11.3f ms %11.3f ms%n", "latency (batch 1)",
                        p.path("denseLatencyMs").asDouble(), p.path("latencyMs").asDouble());
                out.printf(Locale.ROOT, "%-20s %11.3f ms %11.3f ms%n", "latency (batch " + ModelPublished.BATCH + ")",
                        p.path("denseBatchLatencyMs").asDouble(), p.path("batchLatencyMs").asDouble());
                if (p.path("fusedLatencyMs").asDouble() > 0) { // compiled for inference (FusedInference)
                    out.printf(Locale.ROOT, "%-20s %11.3f ms %11.3f ms%n", "fused, batch 1",
                            p.path("denseFusedLatencyMs").asDouble(), p.path("fusedLatencyMs").asDouble());
                    out.printf(Locale.ROOT, "%-20s %11.3f ms %11.3f ms%n", "fused, batch " + ModelPublished.BATCH,
                            p.path("denseFusedBatchLatencyMs").asDouble(), p.path("fusedBatchLatencyMs").asDouble());
                }
            }
        }
        out.flush();
    }

    private static String mega(JsonNode flops) {
        return String.format(Locale.ROOT, "%.2f M", flops.asLong() / 1e6);
    }

    /** Prints each problem of a 400 answer, or its error. */
    static void refusal(PrintWriter err, SchedulerClient.Response r) {
        err.println("refused (HTTP " + r.status() + "): " + r.body().path("error").asText());
        for (JsonNode p : r.body().path("problems")) {
            err.println("  " + p.path("field").asText() + ": " + p.path("message").asText());
        }
        err.flush();
    }

    private static String stepText(JsonNode j) {
        long step = j.path("step").asLong(-1);
        return (step < 0 ? "-" : Long.toString(step)) + "/" + j.path("steps").asText();
    }

    private static String num(JsonNode n) {
        return n.isNumber() ? String.format(Locale.ROOT, "%.4f", n.asDouble()) : "-";
    }

    private static String text(JsonNode n) {
        return n.isTextual() ? n.asText() : "-";
    }
}
