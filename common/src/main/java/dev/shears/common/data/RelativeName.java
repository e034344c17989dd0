package dev.shears.common.data;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Names of files and directories under a root that an operator sets (a worker's data root, its
 * model root), as recipes write them: {@code fashion-mnist}, {@code team/cifar-10}. A name is safe
 * by its spelling alone, before any file is looked at: never absolute, never {@code ..}. The worker
 * checks again, by real path, that what it names lies under the root.
 */
public final class RelativeName {

    /** The longest name. */
    public static final int MAX_LENGTH = 255;
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9._-]+");

    private RelativeName() {}

    /** The rule a name follows, for messages: {@code root} is {@code data} or {@code model}. */
    public static String rule(String root) {
        return "must be a path under the worker's " + root + " root: parts of letters, digits, '.', '_' and '-'"
                + " separated by '/', no part '.' or '..', not starting with '/', at most " + MAX_LENGTH
                + " characters";
    }

    /**
     * Why {@code name} is not a safe relative name ("is an absolute path", "leaves the root with
     * ..."), or empty when it is one.
     */
    public static Optional<String> problem(String name) {
        if (name.isEmpty()) {
            return Optional.of("is empty");
        }
        if (name.length() > MAX_LENGTH) {
            return Optional.of("is " + name.length() + " characters long");
        }
        if (name.startsWith("/") || name.startsWith("\\") || name.startsWith("~")
                || name.length() > 1 && name.charAt(1) == ':') {
            return Optional.of("is an absolute path");
        }
        for (String part : name.split("/", -1)) {
            if (part.equals("..")) {
                return Optional.of("leaves the root with ..");
            }
            if (part.isEmpty() || part.equals(".")) {
                return Optional.of("has an empty or '.' part");
            }
            if (!PART.matcher(part).matches()) {
                return Optional.of("has a part with other characters");
            }
        }
        return Optional.empty();
    }
}
