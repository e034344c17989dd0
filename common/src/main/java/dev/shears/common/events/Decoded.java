package dev.shears.common.events;

import java.util.Objects;

/**
 * What {@link EventCodec#decode} made of some bytes: an {@link Accepted} event, or a
 * {@link Rejection} saying why not.
 *
 * <pre>{@code
 * Decoded d = codec.decode(record.value());
 * if (d instanceof Decoded.Accepted a) {
 *     handle(a.event());
 * } else if (d instanceof Rejection r) {
 *     deadLetter(record, DeadLetter.headers(r, record.topic(), record.partition(), record.offset()));
 * }
 * }</pre>
 */
public sealed interface Decoded permits Decoded.Accepted, Rejection {

    /** A valid event. */
    record Accepted(Event event) implements Decoded {
        public Accepted {
            Objects.requireNonNull(event, "event");
        }
    }
}
