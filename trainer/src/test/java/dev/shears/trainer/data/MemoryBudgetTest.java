package dev.shears.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MemoryBudgetTest {

    @Test
    void theLeastRecentlyUsedGoFirstUntilTheNewcomerFits() {
        MemoryBudget<String> budget = new MemoryBudget<>(100);
        budget.use("a", 30);
        budget.use("b", 30);
        budget.use("c", 30);
        budget.touch("a");

        assertThat(budget.evictFor(10, Set.of())).isEmpty();
        assertThat(budget.evictFor(20, Set.of())).containsExactly("b");
        assertThat(budget.evictFor(45, Set.of())).containsExactly("b", "c");
    }

    @Test
    void busyEntriesAreNeverNamed() {
        MemoryBudget<String> budget = new MemoryBudget<>(100);
        budget.use("a", 50);
        budget.use("b", 50);

        assertThat(budget.evictFor(50, Set.of("a"))).containsExactly("b");
        assertThat(budget.evictFor(500, Set.of("a"))).containsExactly("b");
    }

    @Test
    void removedAndResizedEntriesAreCountedAnew() {
        MemoryBudget<String> budget = new MemoryBudget<>(100);
        budget.use("a", 50);
        budget.use("b", 50);
        budget.remove("a");
        budget.use("b", 70);

        assertThat(budget.usedBytes()).isEqualTo(70);
        assertThat(budget.evictFor(40, List.of())).containsExactly("b");
    }
}
