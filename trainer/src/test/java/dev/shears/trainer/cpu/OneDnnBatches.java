package dev.shears.trainer.cpu;

import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.nd4j.linalg.dataset.DataSet;

/**
 * What the tests of the oneDNN helpers compare on: {@link SameNumbers#oneDnnBatches()}'s two batches, loaded once
 * oneDNN is known to serve this machine (else every test of the class is skipped).
 */
abstract class OneDnnBatches {
    static DataSet batch;
    static DataSet otherBatch;

    @BeforeAll
    static void oneDnn() {
        List<DataSet> batches = SameNumbers.oneDnnBatches();
        batch = batches.get(0);
        otherBatch = batches.get(1);
    }
}
