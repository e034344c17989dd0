package dev.shears.common.events;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The event types: the records permitted by {@link Payload} (recursively), each named by its
 * simple name.
 */
final class PayloadTypes {

    private static final Map<Class<?>, String> NAMES;

    static {
        Map<Class<?>, String> names = new LinkedHashMap<>();
        for (Class<? extends Payload> type : records(Payload.class)) {
            names.put(type, type.getSimpleName());
        }
        NAMES = Collections.unmodifiableMap(names);
    }

    private PayloadTypes() {
    }

    static String nameOf(Class<?> type) {
        return NAMES.get(type);
    }

    /** Every event type's name, commands first, in the order of the {@code permits} clauses. */
    static Collection<String> names() {
        return NAMES.values();
    }

    private static List<Class<? extends Payload>> records(Class<?> sealed) {
        List<Class<? extends Payload>> out = new ArrayList<>();
        for (Class<?> sub : sealed.getPermittedSubclasses()) {
            if (sub.isRecord()) {
                out.add(sub.asSubclass(Payload.class));
            } else {
                out.addAll(records(sub));
            }
        }
        return out;
    }
}
