package dev.shears.common.events;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One fixed example of every event type: the fixtures of the round-trip, golden and garbage tests. */
final class EventExamples {

    static final String JOB = "lenet5-fmnist-90";
    static final Instant TIME = Instant.parse("2026-11-23T12:00:00Z");

    static final String RECIPE = """
            job: lenet5-fmnist-90
            model: lenet5
            schedule:
              kind: polynomial
              finalSparsity: 0.9
              steps: 10
            """;

    static List<Event> all() {
        Map<String, Double> layers = new LinkedHashMap<>();
        layers.put("0_W", 0.5);
        layers.put("2_W", 0.5);
        layers.put("4_W", 0.5);
        layers.put("5_W", 0.4999);
        layers.put("6_W", 0.5);
        return List.of(
                event(1, 0, new JobStarted(RECIPE, 10)),
                event(2, 3, new PruneStep(3, 0.5, 500, false, 1)),
                event(3, 11, new Finalize(10, 2)),
                event(4, 4, new CancelJob("cancelled by alice")),
                event(5, 5, new RollBack(4, 2, "accuracy 0.81 below the budget 0.88 at step 5")),
                event(6, 3, new StepCompleted(3, 1, 0.5, 0.49998, layers, 0.8914, 0.8862, 0.3012,
                        "ckpt-000003-0000001500", "trainer-0", false)),
                event(7, 3, new JobProgress(3, 0.25, 2400.5, "trainer-0")),
                event(8, 3, new JobFailed(3, "PruneStep", 1, "java.io.IOException: No space left on device\n\tat"
                        + " Checkpoints.write", "trainer-0", true)),
                event(9, 2, new JobResumed(2, 1, 1, List.of(new CommandKey(1, 3)), 300, 25, "trainer-1")),
                event(10, 11, new ModelPublished(JOB, "20261123T120000Z",
                        "/var/lib/shears/models/lenet5-fmnist-90/20261123T120000Z/model.zip",
                        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", 0.8906, 0.9, 845404, 845404,
                        61706, 61706, 0.21, 0.2, 3.5, 3.4, 0.024, 0.024, 0.92, 0.91)),
                event(11, 5, new SchedulerDecision(5, SchedulerDecision.ROLLBACK,
                        "accuracy 0.81 < budget 0.88: back to step 4, then half the step")));
    }

    static Event of(String type) {
        return all().stream().filter(e -> e.type().equals(type)).findFirst().orElseThrow();
    }

    private static Event event(int n, long seq, Payload payload) {
        String id = String.format("00000000-0000-4000-8000-%012d", n);
        return new Event(payload.type(), Event.VERSION, id, JOB, seq, TIME.plusSeconds(n), payload);
    }

    private EventExamples() {}
}
