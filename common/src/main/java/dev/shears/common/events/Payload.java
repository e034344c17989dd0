package dev.shears.common.events;

/**
 * What an {@link Event} says: a {@link Command} from the scheduler to the workers, a
 * {@link Report} from a worker to the scheduler, or a {@link SchedulerDecision} for the job's
 * history.
 *
 * <p>Every payload is a record validated in its compact constructor: an instance is always valid,
 * and a constructor given a value out of range throws an {@link IllegalArgumentException} that
 * names the field, the value, the range and the fix. The event type on the wire is the record's
 * simple name ({@code PruneStep}); its JSON fields are the record's components, in order.
 */
public sealed interface Payload permits Command, Report, SchedulerDecision {

    /** The event type this payload travels as: the record's simple name, such as {@code "PruneStep"}. */
    default String type() {
        return PayloadTypes.nameOf(getClass());
    }
}
