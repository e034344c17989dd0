package dev.shears.scheduler;

import dev.shears.common.events.Topics;
import dev.shears.broker.EmbeddedKafkaExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * One real broker for a test class; each test gets its own topics and transactional id, so its schedulers start from
 * nothing and restart onto their own state. What a test starts is closed after it, newest first.
 */
abstract class BrokerTestBase {
    private static final AtomicInteger COUNTER = new AtomicInteger();

    @RegisterExtension
    static final EmbeddedKafkaExtension kafka = new EmbeddedKafkaExtension();

    final List<AutoCloseable> toClose = new ArrayList<>();
    final int n = COUNTER.incrementAndGet();
    final Topics topics = new Topics(getClass().getSimpleName().toLowerCase() + n);

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    /** This test's scheduler configuration: a free loopback port, its topics, two partitions. */
    SchedulerConfig config() {
        return SchedulerConfig.of(kafka.bootstrapServers()).withHttp("127.0.0.1", 0).withTopics(topics)
                .withPartitions(2).withTransactionalId("shears-scheduler-" + topics.prefix());
    }

    /** A scheduler on {@link #config()} as {@code change} makes it, closed after the test. */
    SchedulerService scheduler(UnaryOperator<SchedulerConfig> change, Consumer<Throwable> onFatal) {
        SchedulerService s = SchedulerService.start(change.apply(config()), onFatal);
        toClose.add(s);
        return s;
    }

    SchedulerService scheduler() {
        return scheduler(c -> c, cause -> {});
    }

    FakeWorker worker() {
        FakeWorker w = new FakeWorker(kafka.bootstrapServers(), topics, false);
        toClose.add(w);
        return w;
    }

    /** A recipe of {@code steps} quick steps under the {@code stop} policy. */
    static String recipe(String job, int steps) {
        return """
                job: %s
                model: lenet5
                schedule:
                  kind: linear
                  initialSparsity: 0.1
                  finalSparsity: 0.5
                  steps: %d
                fineTune:
                  iterationsPerStep: 10
                accuracyBudget:
                  maxDrop: 0.05
                  policy: stop
                """.formatted(job, steps);
    }
}
