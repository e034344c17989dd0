package dev.shears.common.recipe;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

/**
 * Writes a recipe as YAML in the schema's key order, leaving out fields its method or kind does not
 * use. Every text value is double-quoted, so that no YAML reader takes {@code "2:4"} or
 * {@code "1e5"} for a number.
 */
final class RecipeWriter {

    private static final YAMLMapper MAPPER = YAMLMapper.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
            .build();

    private RecipeWriter() {}

    static String write(Recipe r) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("job", r.job());
        ModelSource source = r.model();
        if (source.sized()) {
            ObjectNode model = root.putObject("model");
            model.put("name", source.toString());
            source.depth().ifPresent(d -> model.put("depth", d));
            source.width().ifPresent(w -> model.put("width", w));
            source.widthMultiplier().ifPresent(x -> model.put("widthMultiplier", x));
        } else {
            root.put("model", source.toString());
        }
        data(root.putObject(DataSpec.FIELD), r.data());

        Training t = r.training();
        ObjectNode training = root.putObject(Training.SECTION);
        training.put("updater", t.updater().toString());
        training.put("learningRate", t.learningRate());
        t.momentum().ifPresent(m -> training.put("momentum", m));
        training.put("weightDecay", t.weightDecay());
        training.put("batchSize", t.batchSize());
        training.put("seed", t.seed());
        training.put("denseEpochs", t.denseEpochs());
        training.put("threads", t.threads());

        PruningSpec p = r.pruning();
        ObjectNode pruning = root.putObject(PruningSpec.SECTION);
        strings(pruning.putArray("parameters"), p.parameters());
        strings(pruning.putArray("kinds"), p.kinds().stream().map(Object::toString).toList());
        strings(pruning.putArray("exclude"), p.exclude());
        pruning.put("method", p.method().toString());
        p.norm().ifPresent(n -> pruning.put("norm", n));
        p.dim().ifPresent(d -> pruning.put("dim", d));
        p.nm().ifPresent(nm -> pruning.put("nm", nm.toString()));
        pruning.put("scope", p.scope().toString());
        p.structured().ifPresent(st -> {
            ObjectNode structured = pruning.putObject("structured");
            structured.put("groups", st.groups().toString());
            st.reduction().ifPresent(red -> structured.put("reduction", red.toString()));
            st.minChannels().ifPresent(m -> structured.put("minChannels", m));
            st.roundTo().ifPresent(round -> structured.put("roundTo", round));
        });
        if (!p.overrides().isEmpty()) {
            ArrayNode overrides = pruning.putArray("overrides");
            for (PruningSpec.TargetOverride o : p.overrides()) {
                ObjectNode entry = overrides.addObject();
                strings(entry.putArray("parameters"), o.parameters());
                entry.put("sparsity", o.sparsity());
            }
        }

        ScheduleSpec s = r.schedule();
        ObjectNode schedule = root.putObject(ScheduleSpec.SECTION);
        schedule.put("kind", s.kind().toString());
        if (s.kind().usesInitialSparsity()) {
            schedule.put("initialSparsity", s.initialSparsity());
        }
        if (!s.kind().usesPoints()) {
            schedule.put("finalSparsity", s.finalSparsity());
        }
        s.steps().ifPresent(n -> schedule.put("steps", n));
        s.power().ifPresent(pw -> schedule.put("power", pw));
        if (s.kind().usesPoints()) {
            ArrayNode points = schedule.putArray("points");
            s.points().forEach(points::add);
        }
        s.rate().ifPresent(rate -> schedule.put("rate", rate));
        s.rewindIteration().ifPresent(it -> schedule.put("rewindIteration", it));

        root.putObject(FineTune.SECTION).put("iterationsPerStep", r.fineTune().iterationsPerStep());

        AccuracyBudget b = r.accuracyBudget();
        ObjectNode budget = root.putObject(AccuracyBudget.SECTION);
        b.minAccuracy().ifPresent(v -> budget.put("minAccuracy", v));
        b.maxDrop().ifPresent(v -> budget.put("maxDrop", v));
        budget.put("policy", b.policy().toString());
        b.extraIterations().ifPresent(v -> budget.put("extraIterations", v));
        budget.put("maxRetries", b.maxRetries());

        ObjectNode checkpoints = root.putObject(Checkpoints.SECTION).put("keepLast", r.checkpoints().keepLast());
        Checkpoints.Every every = r.checkpoints().every();
        if (every.iterations() > 0) {
            checkpoints.put("every", every.iterations());
        } else if (!every.equals(Checkpoints.Every.DEFAULT)) { // the default left out: workers before it read the recipe
            checkpoints.put("every", every.toString());
        }
        root.putObject(Publish.SECTION).put("name", r.publish().name()).put("artifact",
                r.publish().artifact().toString());
        try {
            return MAPPER.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a recipe as YAML: " + e.getMessage(), e);
        }
    }

    private static void data(ObjectNode data, DataSpec d) {
        data.put("name", d.name());
        ValidationSplit v = d.validation();
        if (v.count() > 0) {
            data.put("validation", v.count());
        } else {
            data.put("validation", v.fraction());
        }
        d.shape().ifPresent(s -> data.putArray("shape").add(s.channels()).add(s.height()).add(s.width()));
        d.normalization().ifPresent(n -> {
            ObjectNode normalization = data.putObject("normalization");
            n.mean().forEach(normalization.putArray("mean")::add);
            n.std().forEach(normalization.putArray("std")::add);
        });
        ObjectNode augmentation = data.putObject("augmentation");
        augmentation.put("crop", d.augmentation().crop());
        augmentation.put("flip", d.augmentation().flip());
    }

    private static void strings(ArrayNode array, java.util.List<String> values) {
        values.forEach(array::add);
    }
}
