package dev.shears.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class ConsumerLagTest {

    @Test
    void sumsTheRecordsNotYetConsumedOverTheAssignedPartitions() {
        TopicPartition p0 = new TopicPartition("shears.commands", 0);
        TopicPartition p1 = new TopicPartition("shears.commands", 1);
        TopicPartition other = new TopicPartition("shears.commands", 2);
        try (MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest")) {
            consumer.assign(List.of(p0, p1));
            consumer.updateBeginningOffsets(Map.of(p0, 0L, p1, 0L));
            consumer.updateEndOffsets(Map.of(p0, 10L, p1, 7L, other, 100L));
            consumer.seek(p0, 4);
            consumer.seek(p1, 7);

            assertThat(ConsumerLag.total(consumer)).isEqualTo(6);
        }
    }
}
