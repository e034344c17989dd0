package dev.shears.trainer.worker;

import dev.shears.common.events.Event;
import dev.shears.common.events.EventCodec;
import dev.shears.common.events.Rejection;
import dev.shears.common.kafka.DeadLetters;
import dev.shears.trainer.metrics.TrainerMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the worker writes to Kafka: the reports of a command, a dead letter, a progress report. Reports and dead letters
 * are acknowledged by the brokers ({@code acks=all}, idempotent producer) before the command's offset may be committed;
 * each counts in {@link TrainerMetrics} once acknowledged. Thread-safe.
 */
final class ReportSender implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReportSender.class);
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(60);

    private final Producer<String, byte[]> producer;
    private final String reportsTopic;
    private final DeadLetters deadLetters;
    private final TrainerMetrics metrics;
    private final EventCodec codec = new EventCodec();

    ReportSender(Producer<String, byte[]> producer, String reportsTopic, DeadLetters deadLetters,
            TrainerMetrics metrics) {
        this.producer = producer;
        this.reportsTopic = reportsTopic;
        this.deadLetters = deadLetters;
        this.metrics = metrics;
    }

    /**
     * Sends the reports in order and waits for every acknowledgement.
     *
     * @return whether all were acknowledged; when not, the command is to be applied again, which acknowledges it from
     *     its checkpoint
     */
    boolean sendAll(List<Event> reports) throws InterruptedException {
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try {
            for (Event report : reports) {
                sent.add(producer.send(new ProducerRecord<>(reportsTopic, report.jobId(), codec.encode(report))));
            }
            for (Future<RecordMetadata> f : sent) {
                f.get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (ExecutionException | TimeoutException | KafkaException e) {
            log.warn("{} report(s) not acknowledged: {}", reports.size(), e.toString());
            return false;
        }
        reports.forEach(r -> metrics.eventProduced(r.type()));
        return true;
    }

    /**
     * Sends the dead letter of {@code record} ({@link DeadLetters}: cut to fit the producer when it would not) and waits
     * for its acknowledgement.
     *
     * @return whether it was acknowledged; when not, the record is not to be committed, and is tried again
     */
    boolean deadLetter(ConsumerRecord<String, byte[]> record, Rejection rejection) throws InterruptedException {
        try {
            producer.send(deadLetters.of(record, rejection)).get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException | KafkaException e) {
            log.warn("could not dead-letter {}-{}@{} ({}); not committed, tried again", record.topic(),
                    record.partition(), record.offset(), e.toString());
            return false;
        }
        metrics.deadLettered(rejection.reason().code());
        return true;
    }

    /** Sends a progress report without waiting: it is for dashboards only, and the next one replaces it. */
    void progress(Event report) {
        producer.send(new ProducerRecord<>(reportsTopic, report.jobId(), codec.encode(report)), (m, e) -> {
            if (e == null) {
                metrics.eventProduced(report.type());
            }
        });
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
