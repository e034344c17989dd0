package dev.shears.common.events;

/**
 * A field of an event or payload that fails its check. The message reads
 * {@code "<Owner>.<field> <value> <what is wrong> (fix: ...)"}; {@link EventCodec} rephrases it
 * for a {@link Rejection} from {@link #field()} and {@link #problem()}.
 */
final class FieldException extends IllegalArgumentException {

    private final String field;
    private final String problem;

    FieldException(String owner, String field, String problem) {
        super(owner + "." + field + " " + problem);
        this.field = field;
        this.problem = problem;
    }

    /** The field's name, such as {@code targetSparsity} or {@code layerSparsity["conv1/W"]}. */
    String field() {
        return field;
    }

    /** The value and what is wrong with it, without the field's name. */
    String problem() {
        return problem;
    }
}
