package dev.shears.bench;

import dev.shears.broker.EmbeddedKafka;
import dev.shears.common.process.SerialFilter;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Kafka's part of a command's latency, without Shears: an embedded broker, a transactional producer that writes what
 * the scheduler writes for one report (a command, a state record, the consumed offsets, then commit), and a
 * read_committed consumer configured like the worker's. Per transaction: {@code COMMIT} (begin to
 * {@code commitTransaction} returned) and {@code DELIVERY} (begin to the record in the consumer's hands). Transactions
 * are spaced {@code --gap-ms} apart, as a closed loop spaces a job's steps.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.shears.bench.TransactionProbe [--count 200] [--gap-ms 50] \
 *     [--retry-backoff-ms 10] [--broker-property add.partitions.to.txn.retry.backoff.ms=5 ...]
 * </pre>
 */
@Command(name = "TransactionProbe", mixinStandardHelpOptions = true,
        description = "Transactional produce to read_committed delivery on an embedded broker.")
public final class TransactionProbe implements Callable<Integer> {
    @Option(names = "--count", defaultValue = "200", description = "transactions (default ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--gap-ms", defaultValue = "50",
            description = "pause between transactions (default ${DEFAULT-VALUE})")
    long gapMs;

    @Option(names = "--retry-backoff-ms", defaultValue = "10",
            description = "the producer's retry.backoff.ms (default ${DEFAULT-VALUE}, the scheduler's; Kafka's is 100)")
    int retryBackoffMs;

    @Option(names = "--broker-property", paramLabel = "NAME=VALUE",
            description = "a broker setting over EmbeddedKafka's defaults (repeatable)")
    Map<String, String> brokerProperties = new java.util.LinkedHashMap<>();

    @Mixin
    RunDirectory dir;

    public static void main(String[] args) {
        SerialFilter.install();
        System.exit(new CommandLine(new TransactionProbe()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Path work = dir.orTemporary("transaction-probe");
        EmbeddedKafka.Options options = EmbeddedKafka.Options.defaults();
        for (Map.Entry<String, String> e : brokerProperties.entrySet()) {
            options = options.withBrokerProperty(e.getKey(), e.getValue());
        }
        try (EmbeddedKafka kafka = EmbeddedKafka.start(work.resolve("kafka"), options)) {
            String bootstrap = kafka.bootstrapServers();
            Properties a = new Properties();
            a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            try (Admin admin = Admin.create(a)) {
                admin.createTopics(List.of(new NewTopic("probe.commands", 6, (short) 1),
                        new NewTopic("probe.state", 1, (short) 1), new NewTopic("probe.reports", 6, (short) 1)))
                        .all().get(60, TimeUnit.SECONDS);
            }
            Map<Integer, Long> sentAt = new ConcurrentHashMap<>();
            Samples delivery = new Samples();
            CountDownLatch all = new CountDownLatch(count);
            CountDownLatch assigned = new CountDownLatch(1);
            Thread reader = new Thread(() -> read(bootstrap, sentAt, delivery, all, assigned), "probe-reader");
            reader.setDaemon(true);
            reader.start();
            assigned.await(60, TimeUnit.SECONDS);
            Samples commit = new Samples();
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "probe");
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
            p.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, retryBackoffMs);
            ConsumerGroupMetadata group = new ConsumerGroupMetadata("probe-group");
            try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(),
                    new ByteArraySerializer())) {
                producer.initTransactions();
                for (int i = 0; i < count; i++) {
                    String key = "job-" + (i % 7);
                    long start = System.nanoTime();
                    sentAt.put(i, start);
                    producer.beginTransaction();
                    producer.send(
                            new ProducerRecord<>("probe.commands", key, ByteBuffer.allocate(4).putInt(i).array()));
                    producer.send(new ProducerRecord<>("probe.state", key, new byte[300]));
                    producer.sendOffsetsToTransaction(Map.of(new TopicPartition("probe.reports", i % 6),
                            new OffsetAndMetadata(i + 1)), group);
                    producer.commitTransaction();
                    commit.add((System.nanoTime() - start) / 1e6);
                    Thread.sleep(gapMs);
                }
            }
            all.await(60, TimeUnit.SECONDS);
            System.out.println("COMMIT " + commit.summary());
            synchronized (delivery) {
                System.out.println("DELIVERY " + delivery.summary());
            }
        }
        return 0;
    }

    private void read(String bootstrap, Map<Integer, Long> sentAt, Samples delivery, CountDownLatch all,
            CountDownLatch assigned) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "probe-reader");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of("probe.commands"));
            while (consumer.assignment().isEmpty()) {
                consumer.poll(Duration.ofMillis(100));
            }
            consumer.seekToEnd(consumer.assignment());
            consumer.assignment().forEach(consumer::position);
            assigned.countDown();
            while (all.getCount() > 0) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    long now = System.nanoTime();
                    Long start = sentAt.get(ByteBuffer.wrap(r.value()).getInt());
                    if (start != null) {
                        synchronized (delivery) {
                            delivery.add((now - start) / 1e6);
                        }
                        all.countDown();
                    }
                }
            }
        }
    }
}
