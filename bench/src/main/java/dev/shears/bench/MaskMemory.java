package dev.shears.bench;

import dev.shears.common.process.SerialFilter;
import dev.shears.prune.Amount;
import dev.shears.prune.Pruning;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The memory the two {@link MaskBenchmark} operations take beyond the parameters and the state
 * they leave behind ({@code _orig} + {@code _mask}): the goal is at most one extra float copy of
 * the parameters.
 *
 * <p>ND4J's buffers are allocated natively and are not counted by JavaCPP's
 * {@code Pointer.totalBytes()}, so native memory is read from the process itself: the resident
 * set (VmRSS) before, and its high-water mark (VmHWM, reset through {@code /proc/self/clear_refs})
 * during one call. Run it with {@code MALLOC_MMAP_THRESHOLD_=131072} (the script does) so glibc
 * maps every large buffer on its own and gives it back on free; then the high-water mark is the
 * most memory live at once. The Java heap's share is read from the heap pools' peak usage.
 *
 * <pre>extra    = peak RSS during the call - RSS before it - bytes of the new _orig and _mask
 * retained = RSS after the call and a GC - RSS before it - bytes of the new _orig and _mask</pre>
 *
 * {@code retained} is memory the call leaves referenced beyond {@code _orig} and {@code _mask}
 * (garbage is collected before it is read).
 * Prints one line per operation:
 * {@code MEMORY op=<global|l1> params_mb=.. state_mb=.. rss_before_mb=.. rss_peak_mb=.. rss_after_mb=.. extra_mb=.. extra_copies=.. retained_mb=.. heap_peak_extra_mb=..}
 * ({@code extra_copies} = extra / bytes of the parameters).
 */
public final class MaskMemory {
    private static final double MB = 1024.0 * 1024.0;

    private MaskMemory() {}

    public static void main(String[] args) throws Exception {
        SerialFilter.install();
        if (!clearHighWaterMark()) {
            System.err.println("MaskMemory: cannot reset VmHWM through /proc/self/clear_refs; peaks would be wrong");
            System.exit(2);
        }
        // Warm-up on small tensors: class loading, JIT, ND4J's native set-up, thread pools.
        for (int i = 0; i < 3; i++) {
            run("warmup", 4, 512, p -> p.pruning.globalUnstructured(p.names(), Amount.fraction(MaskBenchmark.AMOUNT)),
                    false);
            run("warmup", 1, 1024,
                    p -> p.pruning.l1Unstructured(p.names().get(0), Amount.fraction(MaskBenchmark.AMOUNT)), false);
        }
        run("global", MaskBenchmark.GLOBAL_TENSORS, MaskBenchmark.GLOBAL_SIDE,
                p -> p.pruning.globalUnstructured(p.names(), Amount.fraction(MaskBenchmark.AMOUNT)), true);
        run("l1", 1, MaskBenchmark.SINGLE_SIDE,
                p -> p.pruning.l1Unstructured(p.names().get(0), Amount.fraction(MaskBenchmark.AMOUNT)), true);
    }

    private record Problem(Map<String, INDArray> params, Pruning pruning) {
        List<String> names() {
            return List.copyOf(params.keySet());
        }
    }

    private static void run(String op, int count, int side, Consumer<Problem> call, boolean print) throws Exception {
        Nd4j.getRandom().setSeed(MaskBenchmark.SEED);
        Map<String, INDArray> params = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            params.put("layer" + i + ".weight", Nd4j.randn(DataType.FLOAT, side, side));
        }
        Problem problem = new Problem(params, Pruning.of(params));
        settle();
        long paramBytes = 4L * count * side * side;

        List<MemoryPoolMXBean> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(b -> b.getType() == MemoryType.HEAP).toList();
        long heapBefore = 0;
        for (MemoryPoolMXBean b : heapPools) {
            b.resetPeakUsage();
            heapBefore += b.getUsage().getUsed();
        }
        long rssBefore = status("VmRSS");
        clearHighWaterMark();

        call.accept(problem);

        long rssPeak = status("VmHWM");
        long heapPeak = 0;
        for (MemoryPoolMXBean b : heapPools) {
            heapPeak += b.getPeakUsage().getUsed();
        }
        settle();
        long rssAfter = status("VmRSS");

        long stateBytes = 0;
        for (String name : problem.pruning().prunedNames()) {
            stateBytes += bytes(problem.pruning().mask(name)) + bytes(problem.pruning().orig(name));
        }
        long extra = rssPeak - rssBefore - stateBytes;
        long retained = rssAfter - rssBefore - stateBytes;
        if (print) {
            System.out.printf(Locale.ROOT,
                    "MEMORY op=%s params_mb=%.1f state_mb=%.1f rss_before_mb=%.1f rss_peak_mb=%.1f"
                            + " rss_after_mb=%.1f extra_mb=%.1f extra_copies=%.2f retained_mb=%.1f heap_peak_extra_mb=%.1f%n",
                    op, paramBytes / MB, stateBytes / MB, rssBefore / MB, rssPeak / MB, rssAfter / MB,
                    extra / MB, (double) extra / paramBytes, retained / MB, Math.max(0, heapPeak - heapBefore) / MB);
        }
        problem = null;
        params = null;
        settle();
    }

    private static long bytes(INDArray a) {
        return a.length() * a.dataType().width();
    }

    /** Lets the collector and ND4J's deallocator thread free what is no longer referenced. */
    private static void settle() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
    }

    /** A field of /proc/self/status, in bytes. */
    private static long status(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                String[] parts = line.substring(field.length() + 1).trim().split("\\s+");
                return Long.parseLong(parts[0]) * 1024L;
            }
        }
        throw new IOException("no " + field + " in /proc/self/status");
    }

    /** Resets VmHWM to the current RSS (Linux 4.0+). */
    private static boolean clearHighWaterMark() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
