package dev.shears.scheduler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;

/** Redraws a job's status until it ends. */
final class Watch {

    private Watch() {
    }

    /** @return the exit code: 0 only when the job was published */
    static int until(SchedulerClient client, String job, PrintWriter out, PrintWriter err, long intervalMillis)
            throws SchedulerClient.Failure, InterruptedException {
        boolean terminal = System.console() != null;
        String last = null;
        while (true) {
            SchedulerClient.Response r = client.get("/jobs/" + job);
            if (r.status() != 200) {
                Views.refusal(err, r);
                return Views.REQUEST_FAILED;
            }
            JsonNode j = r.body();
            String now = j.path("state").asText() + "|" + j.path("step").asText() + "|" + j.path("attempt").asText()
                    + "|" + j.path("results").size() + "|" + j.path("updated").asText();
            if (!now.equals(last)) {
                if (terminal) {
                    out.print("\033[H\033[2J");
                } else if (last != null) {
                    out.println("---");
                }
                Views.status(out, j);
                last = now;
            }
            if (Views.ended(j)) {
                return Views.exitCode(j);
            }
            Thread.sleep(intervalMillis);
        }
    }
}
