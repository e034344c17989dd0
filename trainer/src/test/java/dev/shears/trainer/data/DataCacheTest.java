package dev.shears.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shears.common.recipe.Augmentation;
import dev.shears.common.recipe.ValidationSplit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataCacheTest {

    private static final Roots TEST_ROOT = Roots.of("data", List.of(Subset.dir().getParent()));
    private static final String NAME = "fashion-mnist-subset";

    @TempDir
    Path spill;

    @Test
    void aDataSetIsLoadedOnceAndSharedBySessions() {
        DataCache cache = new DataCache(TEST_ROOT, 100L << 20, spill);

        LoadedDataset first = cache.get(NAME, Optional.empty());
        LoadedDataset second = cache.get(NAME, Optional.empty());

        assertThat(second).isSameAs(first);
        assertThat(first.isStreamed()).isFalse();
        assertThat(cache.heapBytes()).isEqualTo(2500L * 784 + 2500L * 4);
    }

    @Test
    void aDataSetOverItsBudgetStreamsFromAMappedFileAndGivesTheSameBatches() throws IOException {
        LoadedDataset inMemory = new DataCache(TEST_ROOT, 100L << 20, spill).get(NAME, Optional.empty());
        DataCache tiny = new DataCache(TEST_ROOT, 100_000, spill);

        LoadedDataset streamed = tiny.get(NAME, Optional.empty());

        assertThat(streamed.isStreamed()).isTrue();
        assertThat(tiny.heapBytes()).isEqualTo(2500L * 4).isLessThan(tiny.budgetBytes());
        try (Stream<Path> left = Files.list(spill)) {
            assertThat(left).as("the spill file is unlinked once mapped").isEmpty();
        }
        Partition a = Partition.of(inMemory, ValidationSplit.DEFAULT, 3, Optional.empty());
        Partition b = Partition.of(streamed, ValidationSplit.DEFAULT, 3, Optional.empty());
        assertThat(b.normalization()).isEqualTo(a.normalization());
        Batches fromHeap = Batches.shuffled(a.train(), a.normalization(), 64, 3, new Augmentation(2, true));
        Batches fromDisk = Batches.shuffled(b.train(), b.normalization(), 64, 3, new Augmentation(2, true));
        for (int i = 0; i < 10; i++) {
            assertThat(fromDisk.next().getFeatures().data().asFloat())
                    .containsExactly(fromHeap.next().getFeatures().data().asFloat());
        }
        for (int i = 0; i < a.test().size(); i++) {
            assertThat(b.test().label(i)).isEqualTo(a.test().label(i));
        }
    }

    @Test
    void whatIsLeftOfTheBudgetDecidesWhetherTheNextDataSetStreams() throws IOException {
        Path mine = Files.createDirectories(spill.resolve("root"));
        Fixtures.idxSet(mine.resolve("tiny"), 100, 10, 10, 10, 2);
        long subset = 2500L * 784 + 2500L * 4;
        DataCache cache = new DataCache(Roots.of("data", List.of(Subset.dir().getParent(), mine)), subset + 5000,
                spill.resolve("spill"));

        LoadedDataset first = cache.get(NAME, Optional.empty());
        LoadedDataset second = cache.get("tiny", Optional.empty());

        assertThat(first.isStreamed()).isFalse();
        assertThat(second.isStreamed()).isTrue();
        assertThat(cache.heapBytes()).isLessThanOrEqualTo(cache.budgetBytes());
    }
}
