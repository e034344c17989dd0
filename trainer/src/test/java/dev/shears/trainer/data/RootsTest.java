package dev.shears.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RootsTest {

    @TempDir
    Path tmp;
    Path root;
    Roots roots;

    @BeforeEach
    void layOut() throws IOException {
        root = Files.createDirectories(tmp.resolve("root"));
        Files.createDirectories(root.resolve("team/cifar"));
        Files.createDirectories(tmp.resolve("secret"));
        Files.createSymbolicLink(root.resolve("escape"), tmp.resolve("secret"));
        Files.createSymbolicLink(root.resolve("alias"), root.resolve("team/cifar"));
        Files.writeString(root.resolve("net.zip"), "zip");
        roots = Roots.of("data", List.of(root));
    }

    @Test
    void aNameResolvesToItsRealPathUnderTheRoot() throws IOException {
        assertThat(roots.resolve("team/cifar", Roots.Kind.DIRECTORY))
                .isEqualTo(root.resolve("team/cifar").toRealPath());
        assertThat(roots.resolve("alias", Roots.Kind.DIRECTORY)).isEqualTo(root.resolve("team/cifar").toRealPath());
        assertThat(roots.resolve("net.zip", Roots.Kind.FILE)).isEqualTo(root.resolve("net.zip").toRealPath());
    }

    @Test
    void theFirstRootThatHoldsTheNameWins() throws IOException {
        Path other = Files.createDirectories(tmp.resolve("other/team/cifar"));
        Roots two = Roots.of("data", List.of(tmp.resolve("other"), root));

        assertThat(two.resolve("team/cifar", Roots.Kind.DIRECTORY)).isEqualTo(other.toRealPath());
        assertThat(two.resolve("alias", Roots.Kind.DIRECTORY)).isEqualTo(root.resolve("team/cifar").toRealPath());
    }

    @ParameterizedTest
    @ValueSource(strings = {"/etc", "../secret", "team/../../secret", "escape", "escape/x", "missing", "net.zip",
            "", "team//cifar"})
    void whatIsNotADataSetUnderTheRootGetsOneReasonThatRevealsNothing(String name) {
        Roots.UnavailableException e = catchThrowableOfType(Roots.UnavailableException.class,
                () -> roots.resolve(name, Roots.Kind.DIRECTORY));

        assertThat(e.getMessage()).isEqualTo("data set \"" + name + "\" is not available on this worker: no data"
                + " root holds it (fix: check the name, or ask the worker's operator to put it under --data-root)");
        assertThat(e.detail()).isNotBlank();
    }

    @Test
    void theDetailForTheLogSaysWhyALinkIsRefused() {
        Roots.UnavailableException e = catchThrowableOfType(Roots.UnavailableException.class,
                () -> roots.resolve("escape", Roots.Kind.DIRECTORY));

        assertThat(e.detail()).contains("outside its root");
    }

    @Test
    void modelRootsRefuseADirectoryWhereAFileIsNamed() {
        Roots models = Roots.of("model", List.of(root));

        assertThat(catchThrowableOfType(Roots.UnavailableException.class,
                () -> models.resolve("team", Roots.Kind.FILE)).getMessage())
                .startsWith("model file \"team\" is not available on this worker").contains("--model-root");
    }
}
