package dev.shears.common.cli;

import dev.shears.common.events.Topics;
import dev.shears.common.kafka.KafkaClientConfig;
import dev.shears.common.kafka.KafkaCluster;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options every service that talks to Kafka takes, as a picocli mixin ({@code @Mixin KafkaOptions kafka}):
 * {@code --bootstrap HOST:PORT}, {@code --topic-prefix PREFIX} and {@code --kafka-config FILE}.
 */
public final class KafkaOptions {

    @Option(names = "--bootstrap", required = true, paramLabel = "HOST:PORT",
            description = "Kafka bootstrap servers, e.g. 127.0.0.1:9092.")
    String bootstrap;

    @Option(names = "--topic-prefix", defaultValue = Topics.DEFAULT_PREFIX, paramLabel = "PREFIX",
            description = "Topics are <prefix>.commands, <prefix>.reports, ... (default: ${DEFAULT-VALUE}).")
    String topicPrefix;

    @Option(names = "--kafka-config", paramLabel = "FILE",
            description = "Java properties added to every Kafka client the service creates: SASL, TLS,"
                    + " e.g. security.protocol=SSL and ssl.truststore.location=...")
    Path kafkaConfig;

    /**
     * The cluster these options name: the brokers, the topics under {@code --topic-prefix}, the settings of
     * {@code --kafka-config} (none when it is not given).
     *
     * @throws IllegalArgumentException when the prefix cannot start a Kafka topic name, or the file cannot be read or
     *     sets what the services reserve, naming the fix
     */
    public KafkaCluster cluster() {
        return new KafkaCluster(bootstrap, new Topics(topicPrefix),
                kafkaConfig == null ? KafkaClientConfig.none() : KafkaClientConfig.load(kafkaConfig));
    }
}
