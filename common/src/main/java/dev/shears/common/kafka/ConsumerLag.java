package dev.shears.common.kafka;

import java.util.OptionalLong;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;

/** The consumer lag both services report as {@code shears.consumer.lag}. */
public final class ConsumerLag {
    private ConsumerLag() {}

    /**
     * The records of the consumer's assigned partitions not yet consumed, summed; a partition whose lag the consumer
     * does not know yet (no fetch answered since it was assigned) counts 0. Call it on the consumer's own thread.
     */
    public static long total(Consumer<?, ?> consumer) {
        long total = 0;
        for (TopicPartition tp : consumer.assignment()) {
            OptionalLong lag = consumer.currentLag(tp);
            if (lag.isPresent()) {
                total += lag.getAsLong();
            }
        }
        return total;
    }
}
