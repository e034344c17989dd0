package dev.shears.trainer.model;

import dev.shears.trainer.checkpoint.Checkpoints;
import dev.shears.trainer.train.MaskedTraining;
import java.nio.file.Path;
import org.nd4j.linalg.factory.Nd4j;

/**
 * In a fresh JVM: restores the newest checkpoint of a tiny graph ({@link TrainableModelTest#tiny}), trains on as a job
 * does, and writes the parameters and the updater state. Arguments: checkpoint directory, iterations to train,
 * parameters file, updater state file.
 */
public final class GraphResumeProbe {
    public static void main(String[] args) throws Exception {
        Checkpoints.Restored restored = new Checkpoints(Path.of(args[0])).restoreLatest().orElseThrow();
        TrainableModel model = TrainableModel.of(restored.model().model(), TrainableModelTest.SMALL);
        model.setListeners(new MaskedTraining(restored.model().pruning()));
        model.prepareTraining();
        TrainableModelTest.train(model, restored.state().iteration(), Integer.parseInt(args[1]));
        Nd4j.saveBinary(model.params(), Path.of(args[2]).toFile());
        Nd4j.saveBinary(model.updaterState(), Path.of(args[3]).toFile());
    }

    private GraphResumeProbe() {}
}
