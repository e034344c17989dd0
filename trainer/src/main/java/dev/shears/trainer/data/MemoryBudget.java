package dev.shears.trainer.data;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The accounting of things that hold memory within a budget, such as a worker's open job
 * sessions: each has a size in bytes and a last use; {@link #evictFor} names the least recently
 * used ones to let go so that a newcomer fits. It only counts and chooses: the caller closes what
 * it names and then calls {@link #remove}.
 *
 * <p>Thread-safe.
 *
 * @param <K> what is counted, such as a job id
 */
public final class MemoryBudget<K> {

    private final long budgetBytes;
    /** In access order: least recently used first. */
    private final LinkedHashMap<K, Long> sizes = new LinkedHashMap<>(16, 0.75f, true);

    /** @param budgetBytes the bytes all entries may take together, >= 0 */
    public MemoryBudget(long budgetBytes) {
        if (budgetBytes < 0) {
            throw new IllegalArgumentException(
                    "memory budget " + budgetBytes + " bytes is out of range: it must be >= 0");
        }
        this.budgetBytes = budgetBytes;
    }

    /** Counts {@code key} at {@code bytes} (replacing what it had) and makes it the most recently used. */
    public synchronized void use(K key, long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException(
                    "size " + bytes + " bytes of " + key + " is out of range: it must be >= 0");
        }
        sizes.put(key, bytes);
    }

    /** Makes {@code key} the most recently used, if it is counted. */
    public synchronized void touch(K key) {
        sizes.get(key);
    }

    /** Stops counting {@code key}. */
    public synchronized void remove(K key) {
        sizes.remove(key);
    }

    /** The bytes counted. */
    public synchronized long usedBytes() {
        return sizes.values().stream().mapToLong(Long::longValue).sum();
    }

    /** The budget, in bytes. */
    public long budgetBytes() {
        return budgetBytes;
    }

    /**
     * The entries to let go, least recently used first, so that {@code incomingBytes} more fit in
     * the budget; entries in {@code busy} are never named. When even all the others would not make
     * room, all of them are named and the newcomer still does not fit: the caller decides whether
     * to go over the budget or to refuse it.
     */
    public synchronized List<K> evictFor(long incomingBytes, Collection<K> busy) {
        long over = usedBytes() + incomingBytes - budgetBytes;
        List<K> out = new ArrayList<>();
        for (Map.Entry<K, Long> e : sizes.entrySet()) {
            if (over <= 0) {
                break;
            }
            if (!busy.contains(e.getKey())) {
                out.add(e.getKey());
                over -= e.getValue();
            }
        }
        return out;
    }
}
