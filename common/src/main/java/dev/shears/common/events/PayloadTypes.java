package dev.shears.common.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.common.text.Quoted;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The payload records as JSON. The event types are the records permitted by {@link Payload}
 * (recursively), each named by its simple name, its JSON fields its components in order.
 *
 * <p>Binding is done here, not by {@code ObjectMapper.treeToValue}, so that it is strict (no
 * coercion of {@code "3"} or {@code 3.7} to an int, no missing primitive read as 0) and every
 * problem maps to a {@link Rejection.Reason} and a field. Fields the record does not have are
 * ignored: forward compatibility.
 */
final class PayloadTypes {

    /** One payload record: its type name, components and canonical constructor. */
    record Shape(String name, Class<? extends Payload> type, List<RecordComponent> components,
            Constructor<? extends Payload> constructor) {

        List<String> fields() {
            return components.stream().map(RecordComponent::getName).toList();
        }
    }

    private static final Map<String, Shape> BY_NAME;
    private static final Map<Class<?>, Shape> BY_CLASS;

    static {
        Map<String, Shape> byName = new LinkedHashMap<>();
        Map<Class<?>, Shape> byClass = new LinkedHashMap<>();
        for (Class<? extends Payload> type : records(Payload.class)) {
            Shape shape = shape(type);
            byName.put(shape.name(), shape);
            byClass.put(type, shape);
        }
        BY_NAME = Collections.unmodifiableMap(byName);
        BY_CLASS = Collections.unmodifiableMap(byClass);
    }

    private PayloadTypes() {}

    static String nameOf(Class<?> type) {
        return BY_CLASS.get(type).name();
    }

    static Optional<Shape> byName(String name) {
        return Optional.ofNullable(BY_NAME.get(name));
    }

    /** Every event type, commands first, in the order of the {@code permits} clauses. */
    static Collection<Shape> all() {
        return BY_NAME.values();
    }

    static ObjectNode write(Payload payload, JsonNodeFactory nodes) {
        return writeRecord((Record) payload, nodes);
    }

    /** A record's components as the fields of an object, in order. */
    private static ObjectNode writeRecord(Record record, JsonNodeFactory nodes) {
        String owner = record.getClass().getSimpleName();
        ObjectNode out = nodes.objectNode();
        for (RecordComponent component : record.getClass().getRecordComponents()) {
            Object value;
            try {
                value = component.getAccessor().invoke(record);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot read " + owner + "." + component.getName(), e);
            }
            if (value instanceof Integer i) {
                out.put(component.getName(), i);
            } else if (value instanceof Long l) {
                out.put(component.getName(), l);
            } else if (value instanceof Double d) {
                out.put(component.getName(), d);
            } else if (value instanceof Boolean b) {
                out.put(component.getName(), b);
            } else if (value instanceof String s) {
                out.put(component.getName(), s);
            } else if (value instanceof Map<?, ?> map) {
                ObjectNode inner = out.putObject(component.getName());
                map.forEach((k, v) -> inner.put((String) k, (Double) v));
            } else if (value instanceof List<?> list) {
                ArrayNode inner = out.putArray(component.getName());
                list.forEach(element -> inner.add(writeRecord((Record) element, nodes)));
            } else {
                throw new IllegalStateException(owner + "." + component.getName() + " has a type the codec"
                        + " cannot write: " + component.getGenericType());
            }
        }
        return out;
    }

    /**
     * The payload of type {@code shape} from {@code node}.
     *
     * @throws Refusal {@code WRONG_PAYLOAD}, {@code MISSING_FIELD} or {@code INVALID_FIELD}
     */
    static Payload read(Shape shape, JsonNode node) throws Refusal {
        String type = shape.name();
        if (!node.isObject()) {
            throw new Refusal(Rejection.Reason.WRONG_PAYLOAD, "payload", type + " payload " + show(node) + " is "
                    + kind(node) + ", not an object (fix: send {" + String.join(", ", shape.fields()) + "})");
        }
        checkPresent(shape, node);
        Object[] args = new Object[shape.components().size()];
        for (int i = 0; i < args.length; i++) {
            RecordComponent component = shape.components().get(i);
            args[i] = value(type, "payload." + component.getName(), component.getGenericType(),
                    node.get(component.getName()));
        }
        try {
            return shape.constructor().newInstance(args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof FieldException f) {
                throw new Refusal(Rejection.Reason.INVALID_FIELD, "payload." + f.field(),
                        type + " payload." + f.field() + " " + f.problem());
            }
            if (cause instanceof IllegalArgumentException) {
                throw new Refusal(Rejection.Reason.INVALID_FIELD, "payload", type + " payload: " + cause.getMessage());
            }
            throw new IllegalStateException("the " + type + " constructor failed", cause);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot construct " + type, e);
        }
    }

    /** Missing fields: {@code MISSING_FIELD}, or {@code WRONG_PAYLOAD} when the payload is another type's. */
    private static void checkPresent(Shape shape, JsonNode node) throws Refusal {
        List<String> missing = new ArrayList<>();
        for (String field : shape.fields()) {
            if (absent(node.get(field))) {
                missing.add(field);
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        String type = shape.name();
        String fields = String.join(", ", shape.fields());
        String has = "a " + type + " payload has " + fields;
        for (Shape other : BY_NAME.values()) {
            if (other != shape && other.fields().stream().allMatch(f -> !absent(node.get(f)))) {
                throw new Refusal(Rejection.Reason.WRONG_PAYLOAD, "payload", "the payload of this " + type
                        + " event has the fields of a " + other.name() + " (fix: set type to " + other.name()
                        + ", or send a " + type + "'s fields: " + fields + ")");
            }
        }
        if (missing.size() == shape.fields().size() && node.size() > 0) {
            throw new Refusal(Rejection.Reason.WRONG_PAYLOAD, "payload", "the payload of this " + type
                    + " event has none of its fields, only " + names(node) + " (fix: " + has + ")");
        }
        String field = missing.get(0);
        String more = missing.size() == 1 ? "" : " (and " + String.join(", ", missing.subList(1, missing.size())) + ")";
        throw new Refusal(Rejection.Reason.MISSING_FIELD, "payload." + field, type + " payload." + field
                + " is missing" + more + " (fix: " + has + ")");
    }

    private static Object value(String type, String field, Type javaType, JsonNode node) throws Refusal {
        if (javaType == int.class || javaType == long.class) {
            boolean isInt = javaType == int.class;
            if (node.isIntegralNumber() && (isInt ? node.canConvertToInt() : node.canConvertToLong())) {
                return isInt ? (Object) node.intValue() : (Object) node.longValue();
            }
            String problem = node.isIntegralNumber() ? "is too large for a " + (isInt ? "32" : "64")
                    + "-bit whole number"
                    : node.isNumber() ? "is not a whole number" : "is " + kind(node) + ", not a number";
            throw invalid(type, field, node, problem + " (fix: write a JSON integer, e.g. 3)");
        }
        if (javaType == double.class) {
            if (node.isNumber()) {
                return node.doubleValue();
            }
            throw invalid(type, field, node,
                    "is " + kind(node) + ", not a number (fix: write a JSON number, e.g. 0.5)");
        }
        if (javaType == boolean.class) {
            if (node.isBoolean()) {
                return node.booleanValue();
            }
            throw invalid(type, field, node, "is " + kind(node) + ", not a boolean (fix: write true or false)");
        }
        if (javaType == String.class) {
            if (node.isTextual()) {
                return node.textValue();
            }
            throw invalid(type, field, node, "is " + kind(node) + ", not a string (fix: write it in double quotes)");
        }
        if (javaType instanceof ParameterizedType p && p.getRawType() == Map.class
                && p.getActualTypeArguments()[0] == String.class && p.getActualTypeArguments()[1] == Double.class) {
            if (!node.isObject()) {
                throw invalid(type, field, node, "is " + kind(node) + ", not an object of numbers"
                        + " (fix: e.g. {\"0_W\": 0.5})");
            }
            Map<String, Double> map = new LinkedHashMap<>();
            var fields = node.fields();
            while (fields.hasNext()) {
                var e = fields.next();
                String at = field + "[" + Quoted.of(e.getKey()) + "]";
                if (!e.getValue().isNumber()) {
                    throw invalid(type, at, e.getValue(), "is " + kind(e.getValue()) + ", not a number"
                            + " (fix: write a JSON number, e.g. 0.5)");
                }
                map.put(e.getKey(), e.getValue().doubleValue());
            }
            return map;
        }
        if (javaType instanceof ParameterizedType p && p.getRawType() == List.class
                && p.getActualTypeArguments()[0] instanceof Class<?> element && element.isRecord()) {
            if (!node.isArray()) {
                throw invalid(type, field, node, "is " + kind(node) + ", not an array (fix: e.g. [], or [{"
                        + String.join(": 1, ", fieldsOf(element)) + ": 1}])");
            }
            List<Object> list = new ArrayList<>();
            for (int i = 0; i < node.size(); i++) {
                list.add(readRecord(type, field + "[" + i + "]", element, node.get(i)));
            }
            return list;
        }
        throw new IllegalStateException(type + " has a field of a type the codec cannot read: " + javaType);
    }

    /** A record nested in a payload (an element of a list), strict as the payload itself. */
    private static Object readRecord(String type, String field, Class<?> record, JsonNode node) throws Refusal {
        List<String> fields = fieldsOf(record);
        if (!node.isObject()) {
            throw invalid(type, field, node, "is " + kind(node) + ", not an object (fix: {"
                    + String.join(", ", fields) + "})");
        }
        RecordComponent[] components = record.getRecordComponents();
        Object[] args = new Object[components.length];
        for (int i = 0; i < components.length; i++) {
            String name = field + "." + components[i].getName();
            if (absent(node.get(components[i].getName()))) {
                throw new Refusal(Rejection.Reason.MISSING_FIELD, name, type + " " + name
                        + " is missing (fix: each element has " + String.join(", ", fields) + ")");
            }
            args[i] = value(type, name, components[i].getGenericType(), node.get(components[i].getName()));
        }
        try {
            return record.getDeclaredConstructor(Stream.of(components).map(RecordComponent::getType)
                    .toArray(Class<?>[]::new)).newInstance(args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof FieldException f) {
                throw new Refusal(Rejection.Reason.INVALID_FIELD, field + "." + f.field(),
                        type + " " + field + "." + f.field() + " " + f.problem());
            }
            throw new IllegalStateException("the " + record.getSimpleName() + " constructor failed", e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot construct " + record.getSimpleName(), e);
        }
    }

    private static List<String> fieldsOf(Class<?> record) {
        return Stream.of(record.getRecordComponents()).map(RecordComponent::getName).toList();
    }

    static boolean absent(JsonNode node) {
        return node == null || node.isNull() || node.isMissingNode();
    }

    private static Refusal invalid(String type, String field, JsonNode node, String problem) {
        return new Refusal(Rejection.Reason.INVALID_FIELD, field, type + " " + field + " " + show(node) + " "
                + problem);
    }

    /** A JSON value as written, cut after 80 characters. */
    static String show(JsonNode node) {
        if (node.isTextual()) {
            return Quoted.of(node.textValue());
        }
        String s = node.toString().replaceAll("\\p{Cc}", "?");
        return s.length() <= 80 ? s : s.substring(0, Character.isHighSurrogate(s.charAt(79)) ? 79 : 80) + "...";
    }

    /** "a string", "an object", ... */
    static String kind(JsonNode node) {
        String kind = node.getNodeType().name().toLowerCase(Locale.ROOT);
        return (kind.startsWith("a") || kind.startsWith("o") ? "an " : "a ") + kind;
    }

    private static String names(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(n -> names.add(Quoted.of(n)));
        return names.size() <= 8 ? String.join(", ", names)
                : String.join(", ", names.subList(0, 8)) + " and " + (names.size() - 8) + " more";
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

    private static Shape shape(Class<? extends Payload> type) {
        List<RecordComponent> components = List.of(type.getRecordComponents());
        Class<?>[] types = components.stream().map(RecordComponent::getType).toArray(Class<?>[]::new);
        try {
            return new Shape(type.getSimpleName(), type, components, type.getDeclaredConstructor(types));
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(type + " has no canonical constructor", e);
        }
    }
}
