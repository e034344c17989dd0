package dev.shears.common.kafka;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

/**
 * Kafka client settings from a file ({@code --kafka-config FILE}, Java properties), added to every producer, consumer
 * and admin client a service creates: SASL, TLS, timeouts, whatever the cluster needs, e.g.
 *
 * <pre>
 * security.protocol=SASL_SSL
 * sasl.mechanism=SCRAM-SHA-512
 * sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="shears" password="...";
 * ssl.truststore.location=/etc/shears/truststore.p12
 * </pre>
 *
 * <p>The settings the exactly-once contract of {@code common/EVENTS.md} rests on ({@link #RESERVED}) are the services'
 * own and are refused here. Values are immutable once loaded.
 */
public final class KafkaClientConfig {
    /** Settings the services set themselves: delivery guarantees, isolation, offsets, identities, serialization. */
    public static final Set<String> RESERVED = Set.of("bootstrap.servers", "enable.idempotence", "acks",
            "transactional.id", "isolation.level", "enable.auto.commit", "group.id", "key.serializer",
            "value.serializer", "key.deserializer", "value.deserializer", "partition.assignment.strategy");
    /** A larger file is not a client configuration. */
    public static final int MAX_BYTES = 1 << 16;

    private static final KafkaClientConfig NONE = new KafkaClientConfig(Map.of());

    private final Map<String, String> entries;

    private KafkaClientConfig(Map<String, String> entries) {
        this.entries = Collections.unmodifiableMap(new TreeMap<>(entries));
    }

    /** No settings beyond the services' own. */
    public static KafkaClientConfig none() {
        return NONE;
    }

    /**
     * These settings.
     *
     * @throws IllegalArgumentException when one is reserved or blank, naming it and the fix
     */
    public static KafkaClientConfig of(Map<String, String> entries) {
        for (Map.Entry<String, String> e : entries.entrySet()) {
            String key = e.getKey();
            if (key == null || key.isBlank() || e.getValue() == null) {
                throw new IllegalArgumentException("Kafka setting '" + key + "' = '" + e.getValue() + "' is blank"
                        + " (fix: write name=value, e.g. security.protocol=SSL)");
            }
            if (RESERVED.contains(key.trim())) {
                throw new IllegalArgumentException("Kafka setting " + key + " is set by Shears itself and cannot be"
                        + " overridden: the exactly-once contract depends on it (fix: remove it from the Kafka config;"
                        + " give the brokers with --bootstrap)");
            }
        }
        return new KafkaClientConfig(entries);
    }

    /**
     * Reads a Java properties file (UTF-8, at most {@link #MAX_BYTES}).
     *
     * @throws IllegalArgumentException when the file cannot be read, is too large, or sets a reserved setting; the
     *     message names the file and the fix
     */
    public static KafkaClientConfig load(Path file) {
        Properties p = new Properties();
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new IllegalArgumentException("Kafka config " + file + " is over " + MAX_BYTES + " bytes (fix: a"
                        + " Java properties file with the client settings, e.g. security.protocol=SSL)");
            }
            try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read Kafka config " + file + ": " + e + " (fix: give a readable"
                    + " Java properties file, e.g. --kafka-config /etc/shears/kafka.properties)", e);
        }
        Map<String, String> entries = new TreeMap<>();
        p.stringPropertyNames().forEach(k -> entries.put(k.trim(), p.getProperty(k).trim()));
        try {
            return of(entries);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Kafka config " + file + ": " + e.getMessage(), e);
        }
    }

    /** The settings, by name. */
    public Map<String, String> entries() {
        return entries;
    }

    /** Adds the settings to a client's {@code properties} (over what is there) and returns them. */
    public Properties applyTo(Properties properties) {
        properties.putAll(entries);
        return properties;
    }

    /** The setting names only: values may be secrets. */
    @Override
    public String toString() {
        return "KafkaClientConfig" + entries.keySet();
    }
}
