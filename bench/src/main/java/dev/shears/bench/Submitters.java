package dev.shears.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;
import picocli.CommandLine.Option;

/**
 * {@code --clients}: jobs submitted by {@code POST /jobs} from that many threads at once. A picocli mixin of the
 * benchmarks that load the scheduler.
 */
final class Submitters {
    @Option(names = "--clients", defaultValue = "8", description = "threads submitting (default ${DEFAULT-VALUE})")
    int clients;

    /**
     * Posts {@code recipe.apply(0)} to {@code recipe.apply(count - 1)} to {@code scheduler} from {@code --clients}
     * threads ({@link SchedulerApi#post}); returns how many were accepted (201).
     */
    int submit(SchedulerApi scheduler, int count, IntFunction<String> recipe)
            throws InterruptedException, ExecutionException {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<Integer>> statuses = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String body = recipe.apply(i);
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
}
