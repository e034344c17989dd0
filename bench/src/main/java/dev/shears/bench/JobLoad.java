package dev.shears.bench;

import dev.shears.common.events.Event;
import dev.shears.common.events.Finalize;
import dev.shears.common.events.JobProgress;
import dev.shears.common.events.JobStarted;
import dev.shears.common.events.ModelPublished;
import dev.shears.common.events.PruneStep;
import dev.shears.common.events.StepCompleted;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;
import java.util.function.IntSupplier;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code --steps}, {@code --clients} and {@code --timeout-minutes}: the jobs a benchmark loads the scheduler with,
 * LeNet-5 recipes of that many schedule steps for fake workers (none of it is trained), submitted by {@code POST /jobs}
 * from that many threads at once; the wait until they are published, for at most that long; and the check that each
 * ran exactly once. A picocli mixin of the benchmarks that load the scheduler; each gives its own defaults as the
 * instance's initial values, {@code @Mixin JobLoad load = new JobLoad(10, 10);}.
 */
final class JobLoad {
    @Option(names = "--steps", description = "schedule steps per job (default ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--clients", defaultValue = "8", description = "threads submitting (default ${DEFAULT-VALUE})")
    int clients;

    @Mixin
    Deadline deadline;

    /** {@code --steps} and {@code --timeout-minutes} unless given. */
    JobLoad(int steps, int timeoutMinutes) {
        this.steps = steps;
        this.deadline = new Deadline(timeoutMinutes);
    }

    /** The recipe of the job {@code job}: LeNet-5, {@code --steps} steps, for a fake worker (none of it is trained). */
    String recipe(String job) {
        return BenchRecipes.lenet5(job, null, 1, steps, 20);
    }

    /**
     * Posts the recipes of the jobs {@code id.apply(0)} to {@code id.apply(count - 1)} to {@code scheduler} from
     * {@code --clients} threads ({@link SchedulerApi#post}); returns how many were accepted (201).
     */
    int submit(SchedulerApi scheduler, int count, IntFunction<String> id)
            throws InterruptedException, ExecutionException {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<Integer>> statuses = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String body = recipe(id.apply(i));
                statuses.add(pool.submit(() -> scheduler.post(body)));
            }
            int accepted = 0;
            for (Future<Integer> f : statuses) {
                accepted += f.get() == 201 ? 1 : 0;
            }
            return accepted;
        } finally {
            pool.shutdown();
        }
    }

    /**
     * Waits until the scheduler lists {@code accepted} jobs as published, or {@code --timeout-minutes} have passed
     * since {@code startNanos} (a {@link System#nanoTime()}). It asks the scheduler ({@code GET /jobs}) only once the
     * fake workers say they have published that many, every 20 ms from then on; their count every 200 ms before.
     *
     * @param workersPublished the jobs the fake workers have published so far
     * @return the published jobs the scheduler listed last; 0 when it was never asked
     */
    int awaitPublished(SchedulerApi scheduler, int accepted, long startNanos, IntSupplier workersPublished)
            throws IOException, InterruptedException {
        int published = 0;
        while (published < accepted && !deadline.passed(startNanos)) {
            boolean workersDone = workersPublished.getAsInt() >= accepted;
            if (workersDone) {
                published = scheduler.publishedJobs();
            }
            if (published < accepted) {
                Thread.sleep(workersDone ? 20 : 200);
            }
        }
        return published;
    }

    /**
     * Each of the {@code n} jobs on the topics: JobStarted, PruneStep 1..{@code --steps}, Finalize, each once;
     * StepCompleted 0..{@code --steps} and ModelPublished, each once (progress reports aside); the violations, empty
     * when there are none.
     */
    List<String> exactlyOnce(TopicHistory history, int n) {
        List<String> out = new ArrayList<>();
        if (history.commands().size() != n || history.reports().size() != n) {
            out.add("jobs on commands " + history.commands().size() + ", on reports " + history.reports().size()
                    + ", expected " + n);
        }
        history.commands().forEach((job, events) -> {
            List<String> got = events.stream().map(e -> e.type() + " " + e.seq() + attempt(e)).toList();
            List<String> want = new ArrayList<>();
            want.add("JobStarted 0");
            for (int k = 1; k <= steps; k++) {
                want.add("PruneStep " + k + " attempt 1");
            }
            want.add("Finalize " + (steps + 1));
            if (!got.equals(want) || !(events.get(0).payload() instanceof JobStarted)
                    || !(events.get(events.size() - 1).payload() instanceof Finalize)) {
                out.add("job " + job + " commands " + got);
            }
        });
        history.reports().forEach((job, all) -> {
            List<Event> events = all.stream().filter(e -> !(e.payload() instanceof JobProgress)).toList();
            List<String> got = events.stream().map(e -> e.type() + " " + e.seq()).toList();
            List<String> want = new ArrayList<>();
            for (int k = 0; k <= steps; k++) {
                want.add("StepCompleted " + k);
            }
            want.add("ModelPublished " + (steps + 1));
            if (!got.equals(want)
                    || events.stream().anyMatch(e -> e.payload() instanceof StepCompleted s && s.redelivered())
                    || !(events.get(events.size() - 1).payload() instanceof ModelPublished)) {
                out.add("job " + job + " reports " + got);
            }
        });
        return out;
    }

    private static String attempt(Event e) {
        return e.payload() instanceof PruneStep p ? " attempt " + p.attempt() : "";
    }
}
