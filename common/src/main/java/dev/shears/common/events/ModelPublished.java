package dev.shears.common.events;

/**
 * The job's model is published: pruning made permanent, verified, written with its checksum. The
 * answer to {@link Finalize}, sent with its seq; the job is done.
 *
 * @param name the publication name, {@code [a-z0-9][a-z0-9._-]{0,63}} (the recipe's
 *     {@code publish.name})
 * @param version the version directory's name, such as {@code 20261123T120000Z}
 * @param path where the artifact lies (a file path or URI), not blank, at most 4,096 bytes of UTF-8
 * @param sha256 the model file's SHA-256, 64 lower-case hex digits
 * @param accuracy test accuracy of the published model, in [0, 1]
 * @param sparsity the fraction of the selected weights that are zero, in [0, 1]
 */
public record ModelPublished(String name, String version, String path, String sha256, double accuracy,
        double sparsity) implements Report {

    /** @throws IllegalArgumentException when a field is out of range */
    public ModelPublished {
        Check c = new Check("ModelPublished");
        c.name("name", name, "lenet5-fmnist-90");
        c.token("version", version, "20261123T120000Z");
        c.text("path", path, Limits.PATH, false, "the published model's location");
        if (path.chars().anyMatch(Check::isControl)) {
            throw c.fail("path", path, "contains a control character (fix: remove it)");
        }
        c.sha256("sha256", sha256);
        c.range("accuracy", accuracy, 0, 1, true, "a fraction of the test set, e.g. 0.89, not a percentage");
        c.range("sparsity", sparsity, 0, 1, true, "a fraction of the selected weights");
    }
}
