package dev.shears.trainer.data;

import java.util.List;
import java.util.NoSuchElementException;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/** The batches of one epoch of a {@link Batches}, as a DL4J iterator. */
final class EpochIterator implements DataSetIterator {

    private static final long serialVersionUID = 1L;

    private final transient Batches batches;
    private final transient int[] order;
    private final int epoch;
    private int next;
    private DataSetPreProcessor preProcessor;

    EpochIterator(Batches batches, int epoch) {
        this.batches = batches;
        this.order = batches.orderOf(epoch);
        this.epoch = epoch;
    }

    @Override
    public boolean hasNext() {
        return next < batches.batchesPerEpoch();
    }

    @Override
    public DataSet next() {
        if (!hasNext()) {
            throw new NoSuchElementException("the epoch's " + batches.batchesPerEpoch()
                    + " batches are all taken: call reset() to start it again");
        }
        DataSet batch = batches.batch(order, epoch, next++);
        if (preProcessor != null) {
            preProcessor.preProcess(batch);
        }
        return batch;
    }

    /** @throws UnsupportedOperationException always: the batch size is fixed when the batches are made */
    @Override
    public DataSet next(int num) {
        throw new UnsupportedOperationException("next(" + num + "): the batch size is fixed at "
                + batches.batchSize() + "; make a Batches with batch size " + num + " instead");
    }

    @Override
    public int inputColumns() {
        return batches.examples().shape().input().size();
    }

    @Override
    public int totalOutcomes() {
        return batches.examples().shape().classes();
    }

    @Override
    public boolean resetSupported() {
        return true;
    }

    @Override
    public boolean asyncSupported() {
        return false;
    }

    @Override
    public void reset() {
        next = 0;
    }

    @Override
    public int batch() {
        return batches.batchSize();
    }

    @Override
    public void setPreProcessor(DataSetPreProcessor preProcessor) {
        this.preProcessor = preProcessor;
    }

    @Override
    public DataSetPreProcessor getPreProcessor() {
        return preProcessor;
    }

    @Override
    public List<String> getLabels() {
        return batches.examples().classNames();
    }
}
