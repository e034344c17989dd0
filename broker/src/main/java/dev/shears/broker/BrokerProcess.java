package dev.shears.broker;

import dev.shears.common.process.ParentWatch;
import dev.shears.common.process.SerialFilter;

import kafka.tools.StorageTool;

/**
 * The main class of the broker's own JVM, started by {@link EmbeddedKafka}: formats the storage when it is not formatted
 * yet, then runs Kafka's {@code kafka.Kafka} (as {@code kafka-server-start.sh} does) until the process is told to stop.
 *
 * <p>Arguments: {@code <server.properties> <cluster id>}. The cluster id is used only by the first format; a formatted
 * data directory keeps its own.
 *
 * <p>With {@code -Dshears.exitWithParent=true} ({@link ParentWatch}) the broker shuts down cleanly when its standard input reaches
 * end of file, which is when the JVM that started it exits, however it exits (even by SIGKILL): no orphaned broker
 * keeps a port and a data directory after a crashed test run or launcher.
 *
 * <p>Not an API: {@link EmbeddedKafka} is.
 */
public final class BrokerProcess {

    private BrokerProcess() {}

    public static void main(String[] args) throws Exception {
        SerialFilter.install();
        if (args.length != 2) {
            System.err.println("usage: BrokerProcess <server.properties> <cluster id>");
            System.exit(2);
        }
        String properties = args[0];
        String clusterId = args[1];
        ParentWatch.startIfAsked();

        // kafka-storage.sh format --ignore-formatted: formats the log directories that are not formatted yet.
        int formatted;
        try {
            formatted = StorageTool.execute(
                    new String[]{"format", "--cluster-id", clusterId, "--config", properties, "--ignore-formatted"},
                    System.out);
        } catch (Throwable e) {
            System.err.println("shears: the broker's configuration or the format of its storage failed: " + e);
            e.printStackTrace();
            System.exit(1);
            return;
        }
        if (formatted != 0) {
            System.err.println("shears: formatting the broker's storage failed (status " + formatted + ")");
            System.exit(1);
        }
        System.out.flush();

        // Runs until SIGTERM/SIGINT (its shutdown hook shuts the broker down cleanly) or a fatal error, then exits.
        kafka.Kafka.main(new String[]{properties});
    }
}
