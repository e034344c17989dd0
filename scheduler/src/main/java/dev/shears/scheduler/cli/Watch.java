package dev.shears.scheduler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;

/**
 * Follows a job until it ends. On a terminal it redraws the job's status, with the running step's progress bar, as it
 * changes; otherwise (a pipe, a log, CI) it prints each step's row once as it completes, each change of state, and the
 * publication at the end.
 */
final class Watch {

    private Watch() {}

    /** @return the exit code: 0 only when the job was published */
    static int until(SchedulerClient client, String job, PrintWriter out, PrintWriter err, long intervalMillis)
            throws SchedulerClient.Failure, InterruptedException {
        boolean terminal = System.console() != null;
        String last = null;
        String lastState = null;
        int rowsShown = 0;
        String lastQuarter = null;
        while (true) {
            SchedulerClient.Response r = client.get("/jobs/" + job);
            if (r.status() != 200) {
                Views.refusal(err, r);
                return Views.REQUEST_FAILED;
            }
            JsonNode j = r.body();
            if (terminal) {
                String now = j.path("state").asText() + "|" + j.path("step").asText() + "|" + j.path("attempt").asText()
                        + "|" + j.path("results").size() + "|" + j.path("updated").asText() + "|"
                        + Math.round(100 * j.path("progress").path("fraction").asDouble(-1));
                if (!now.equals(last)) {
                    out.print("\033[H\033[2J");
                    Views.status(out, j);
                    last = now;
                }
            } else {
                JsonNode p = j.path("progress");
                if (p.isObject()) {
                    // A line per quarter of a long step, so that a log shows it moving.
                    String quarter = p.path("seq").asText() + ":" + (int) (4 * p.path("fraction").asDouble());
                    if (!quarter.equals(lastQuarter) && !quarter.endsWith(":0")) {
                        Views.progress(out, j);
                    }
                    lastQuarter = quarter;
                }
                JsonNode results = j.path("results");
                for (; rowsShown < results.size(); rowsShown++) {
                    if (rowsShown == 0) {
                        Views.resultsHeader(out);
                    }
                    Views.resultRow(out, results.get(rowsShown));
                }
                String state = j.path("state").asText();
                if (!state.equals(lastState)) {
                    out.printf("%s: %s%n", job, state);
                    lastState = state;
                }
                if (Views.ended(j)) {
                    if (j.hasNonNull("failure")) {
                        out.println("failure: " + j.path("failure").asText());
                    }
                    Views.publication(out, j);
                }
                out.flush();
            }
            if (Views.ended(j)) {
                return Views.exitCode(j);
            }
            Thread.sleep(intervalMillis);
        }
    }
}
