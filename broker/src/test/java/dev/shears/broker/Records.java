package dev.shears.broker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Producers and consumers for the broker tests: plain string records, keyed. */
final class Records {

    private Records() {}

    static Properties producerProperties(String bootstrapServers) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.RECONNECT_BACKOFF_MS_CONFIG, 50);
        p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
        return p;
    }

    static Properties consumerProperties(String bootstrapServers, String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, IsolationLevel.READ_COMMITTED.toString());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return p;
    }

    /** Key {@code k<i % keys>}, value {@code <prefix>-<i>}. */
    static ProducerRecord<String, String> record(String topic, String prefix, int i, int keys) {
        return new ProducerRecord<>(topic, "k" + (i % keys), prefix + "-" + i);
    }

    /** Sends {@code count} keyed records with an idempotent producer and waits for every acknowledgement. */
    static void produce(String bootstrapServers, String topic, String prefix, int count, int keys)
            throws InterruptedException, ExecutionException {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProperties(bootstrapServers))) {
            List<Future<RecordMetadata>> sent = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                sent.add(producer.send(record(topic, prefix, i, keys)));
            }
            for (Future<RecordMetadata> f : sent) {
                f.get();
            }
        }
    }

    /**
     * Reads {@code topic} from the group's committed position (or the beginning) until {@code expected} records have
     * come, then a little longer to catch extras (duplicates), commits, and returns what came.
     */
    static List<ConsumerRecord<String, String>> consume(Properties consumerProperties, String topic, int expected,
            Duration timeout) {
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProperties)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (got.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(got::add);
            }
            // Anything beyond the expected count (duplicates) would show up now.
            consumer.poll(Duration.ofMillis(300)).forEach(got::add);
            consumer.commitSync();
        }
        return got;
    }

    static List<String> values(List<ConsumerRecord<String, String>> records) {
        return records.stream().map(ConsumerRecord::value).toList();
    }

    static List<String> expectedValues(String prefix, int count) {
        List<String> values = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            values.add(prefix + "-" + i);
        }
        return values;
    }

    /** Per key, the sequence numbers in the order they were read: must be increasing (one key, one partition). */
    static void assertOrderedPerKey(List<ConsumerRecord<String, String>> records) {
        Map<String, Integer> last = new HashMap<>();
        for (ConsumerRecord<String, String> r : records) {
            int seq = Integer.parseInt(r.value().substring(r.value().lastIndexOf('-') + 1));
            Integer previous = last.put(r.key(), seq);
            if (previous != null && previous >= seq) {
                throw new AssertionError("key " + r.key() + ": " + seq + " read after " + previous);
            }
        }
    }
}
