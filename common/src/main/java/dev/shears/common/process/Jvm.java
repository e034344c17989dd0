package dev.shears.common.process;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** How Shears starts another JVM of its own: this JVM's {@code java}, and its classpath through an argument file. */
public final class Jvm {

    private Jvm() {}

    /** The {@code java} executable of the running JVM. */
    public static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * Writes {@code -cp <classpath>} to {@code argFile} (a classpath of hundreds of jars is too long for some command
     * lines) and returns the {@code @argFile} argument that reads it.
     *
     * @param classpath the classpath, or null for this JVM's; relative entries are made absolute
     */
    public static String classpathArgument(Path argFile, String classpath) throws IOException {
        List<String> entries = new ArrayList<>();
        String cp = classpath != null ? classpath : System.getProperty("java.class.path");
        for (String entry : cp.split(File.pathSeparator)) {
            if (!entry.isEmpty()) {
                entries.add(entry.endsWith("*") ? entry : Path.of(entry).toAbsolutePath().toString());
            }
        }
        String quoted = "\"" + String.join(File.pathSeparator, entries).replace("\\", "\\\\").replace("\"", "\\\"")
                + "\"";
        Files.createDirectories(argFile.toAbsolutePath().getParent());
        Files.writeString(argFile, "-cp\n" + quoted + "\n", StandardCharsets.UTF_8);
        return "@" + argFile.toAbsolutePath();
    }
}
