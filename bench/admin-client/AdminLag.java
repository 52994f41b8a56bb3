// bench/admin-client/AdminLag.java: the reference point of bench/admin_scale. Reads consumer
// lag the way an operator's lag tool does with Kafka's own AdminClient, and prints one line of
// JSON.
//
//   java -cp <kafka>/libs/*:<classes> AdminLag --bootstrap HOST:PORT (--prefix P | --regex R)
//        [--describe] [--earliest] [--reads N] [--timeout-ms N]
//
// Steps, each one call for all groups (the AdminClient batches per coordinator / leader):
//   1. listConsumerGroups, filtered here by prefix (or regex);
//   2. [--describe] describeConsumerGroups of the matching groups (members and owners);
//   3. listConsumerGroupOffsets with a map of every matching group;
//   4. listOffsets (latest, and with --earliest also earliest) of every partition seen in 3;
//   5. total lag = sum over committed partitions of max(0, log end - committed).
// Without --describe and --earliest this is the least an AdminClient tool can do; with both it
// does what `lagwatch check` does on the wire.
//
// wall_ms runs from just before Admin.create to the first read's last answer (the JVM's start
// is not in it; class loading and a cold JIT are), create_ms is Admin.create's share of it.
// With --reads N the same client reads N - 1 more times: warm_ms lists those reads, the
// AdminClient at its best.
// requests is the AdminClient's own count after the first read: metric request-total of group
// admin-client-metrics (every request its network client sent, ApiVersions and metadata
// included); warm_requests is the average of the later reads; node_requests sums request-total
// of admin-client-node-metrics over the nodes, as a cross-check.
// The program is compiled by bench/admin_scale; nothing here is built into lagwatch.

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;

public final class AdminLag {
    private AdminLag() {}

    private static long ms(long fromNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - fromNanos);
    }

    private static double requestTotal(Map<MetricName, ? extends Metric> metrics, String group) {
        double sum = 0;
        for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
            MetricName name = e.getKey();
            if (name.name().equals("request-total") && name.group().equals(group)) {
                Object value = e.getValue().metricValue();
                if (value instanceof Number) {
                    sum += ((Number) value).doubleValue();
                }
            }
        }
        return sum;
    }

    private static void usage(String message) {
        System.err.println("AdminLag: " + message);
        System.err.println(
                "usage: AdminLag --bootstrap HOST:PORT (--prefix P | --regex R) [--describe]"
                        + " [--earliest] [--reads N] [--timeout-ms N]");
        System.exit(2);
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = null;
        Predicate<String> matches = null;
        boolean describe = false;
        boolean earliest = false;
        int timeoutMs = 120_000;
        int reads = 1;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--bootstrap" -> bootstrap = args[++i];
                case "--prefix" -> {
                    String p = args[++i];
                    matches = name -> name.startsWith(p);
                }
                case "--regex" -> matches = Pattern.compile(args[++i]).asPredicate();
                case "--describe" -> describe = true;
                case "--earliest" -> earliest = true;
                case "--timeout-ms" -> timeoutMs = Integer.parseInt(args[++i]);
                case "--reads" -> reads = Math.max(1, Integer.parseInt(args[++i]));
                default -> usage("unknown argument " + a);
            }
        }
        if (bootstrap == null || matches == null) {
            usage("--bootstrap and --prefix or --regex are required");
        }

        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "lagwatch-bench-adminlag");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs);

        long started = System.nanoTime();
        try (Admin admin = Admin.create(props)) {
            long createMs = ms(started);
            Read first = read(admin, matches, describe, earliest);
            long wallMs = ms(started);
            long requests = Math.round(requestTotal(admin.metrics(), "admin-client-metrics"));
            long nodeRequests =
                    Math.round(requestTotal(admin.metrics(), "admin-client-node-metrics"));
            List<Long> warm = new ArrayList<>();
            for (int i = 1; i < reads; i++) {
                long t = System.nanoTime();
                Read again = read(admin, matches, describe, earliest);
                warm.add(ms(t));
                if (again.totalLag != first.totalLag || again.groups != first.groups) {
                    throw new IllegalStateException("a later read disagrees with the first");
                }
            }
            long warmRequests = reads > 1
                    ? Math.round((requestTotal(admin.metrics(), "admin-client-metrics") - requests)
                            / (reads - 1))
                    : 0;
            System.out.printf(
                    "{\"groups\":%d,\"groups_on_broker\":%d,\"group_partitions\":%d,"
                            + "\"partitions\":%d,\"members\":%d,\"total_lag\":%d,\"wall_ms\":%d,"
                            + "\"create_ms\":%d,\"list_ms\":%d,\"describe_ms\":%d,"
                            + "\"offsets_ms\":%d,\"end_offsets_ms\":%d,\"requests\":%d,"
                            + "\"node_requests\":%d,\"warm_ms\":%s,\"warm_requests\":%d,"
                            + "\"describe\":%b,\"earliest\":%b}%n",
                    first.groups, first.listed, first.groupPartitions, first.partitions,
                    first.members, first.totalLag, wallMs, createMs, first.listMs,
                    first.describeMs, first.offsetsMs, first.endOffsetsMs, requests, nodeRequests,
                    warm, warmRequests, describe, earliest);
        }
    }

    /** What one read found, and how long its steps took. */
    private static final class Read {
        int groups;
        int listed;
        long groupPartitions;
        int partitions;
        long members;
        long totalLag;
        long listMs;
        long describeMs;
        long offsetsMs;
        long endOffsetsMs;
    }

    @SuppressWarnings({"deprecation", "removal"}) // listConsumerGroups: deprecated in 4.x, not gone
    private static Read read(Admin admin, Predicate<String> matches, boolean describe,
            boolean earliest) throws Exception {
        Read r = new Read();
        long t = System.nanoTime();
        Collection<ConsumerGroupListing> listed = admin.listConsumerGroups().all().get();
        List<String> groups = new ArrayList<>();
        for (ConsumerGroupListing g : listed) {
            if (matches.test(g.groupId())) {
                groups.add(g.groupId());
            }
        }
        r.listed = listed.size();
        r.groups = groups.size();
        r.listMs = ms(t);

        if (describe && !groups.isEmpty()) {
            t = System.nanoTime();
            Map<String, ConsumerGroupDescription> described =
                    admin.describeConsumerGroups(groups).all().get();
            for (ConsumerGroupDescription d : described.values()) {
                r.members += d.members().size();
            }
            r.describeMs = ms(t);
        }

        t = System.nanoTime();
        Map<String, ListConsumerGroupOffsetsSpec> specs = new HashMap<>();
        for (String g : groups) {
            specs.put(g, new ListConsumerGroupOffsetsSpec());
        }
        Map<String, Map<TopicPartition, OffsetAndMetadata>> committed =
                groups.isEmpty() ? Map.of() : admin.listConsumerGroupOffsets(specs).all().get();
        r.offsetsMs = ms(t);

        t = System.nanoTime();
        Set<TopicPartition> partitions = new HashSet<>();
        for (Map<TopicPartition, OffsetAndMetadata> m : committed.values()) {
            for (Map.Entry<TopicPartition, OffsetAndMetadata> e : m.entrySet()) {
                if (e.getValue() != null) {
                    partitions.add(e.getKey());
                    r.groupPartitions++;
                }
            }
        }
        r.partitions = partitions.size();
        Map<TopicPartition, OffsetSpec> latestSpec = new HashMap<>();
        for (TopicPartition tp : partitions) {
            latestSpec.put(tp, OffsetSpec.latest());
        }
        Map<TopicPartition, ListOffsetsResultInfo> latest =
                partitions.isEmpty() ? Map.of() : admin.listOffsets(latestSpec).all().get();
        if (earliest && !partitions.isEmpty()) {
            Map<TopicPartition, OffsetSpec> earliestSpec = new HashMap<>();
            for (TopicPartition tp : partitions) {
                earliestSpec.put(tp, OffsetSpec.earliest());
            }
            admin.listOffsets(earliestSpec).all().get();
        }
        r.endOffsetsMs = ms(t);

        for (Map<TopicPartition, OffsetAndMetadata> m : committed.values()) {
            for (Map.Entry<TopicPartition, OffsetAndMetadata> e : m.entrySet()) {
                ListOffsetsResultInfo end = latest.get(e.getKey());
                if (e.getValue() != null && end != null) {
                    r.totalLag += Math.max(0, end.offset() - e.getValue().offset());
                }
            }
        }
        return r;
    }
}
