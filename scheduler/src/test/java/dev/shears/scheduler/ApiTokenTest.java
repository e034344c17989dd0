package dev.shears.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ApiTokenTest {
    static final String TOKEN = "0123456789abcdef0123456789abcdef";

    @Test
    void admitsOnlyTheBearerHeaderWithTheSameToken() {
        ApiToken token = ApiToken.of(TOKEN);
        assertThat(token.admits("Bearer " + TOKEN)).isTrue();
        assertThat(token.admits("bearer " + TOKEN)).isTrue();
        assertThat(token.admits(token.header())).isTrue();
        assertThat(token.admits(null)).isFalse();
        assertThat(token.admits(TOKEN)).isFalse();
        assertThat(token.admits("Basic " + TOKEN)).isFalse();
        assertThat(token.admits("Bearer " + TOKEN + "0")).isFalse();
        assertThat(token.admits("Bearer " + TOKEN.substring(1))).isFalse();
        assertThat(token.admits("Bearer ")).isFalse();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {"", "short", "has space in it 0123456789", "control\u0001chars0123456789", "ünïcödé0123456789"})
    void refusesAWeakOrMalformedTokenWithoutRepeatingIt(String value) {
        assertThatThrownBy(() -> ApiToken.of(value)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("fix:").satisfies(e -> {
                    if (!value.isEmpty()) {
                        assertThat(e.getMessage()).doesNotContain(value);
                    }
                });
    }

    @Test
    void readsAFileWithoutItsLineEndAndNeverPrintsTheToken(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("token");
        Files.writeString(file, TOKEN + "\n");
        ApiToken token = ApiToken.read(file);
        assertThat(token.admits("Bearer " + TOKEN)).isTrue();
        assertThat(token.toString()).doesNotContain(TOKEN);
        assertThatThrownBy(() -> ApiToken.read(dir.resolve("absent"))).hasMessageContaining("absent")
                .hasMessageContaining("fix:");
    }
}
