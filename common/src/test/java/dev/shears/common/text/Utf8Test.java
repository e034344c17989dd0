package dev.shears.common.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class Utf8Test {

    @Test
    void textThatFitsIsKeptWhole() {
        assertThat(Utf8.cut("", 0)).isEmpty();
        assertThat(Utf8.cut("abc", 3)).isEqualTo("abc");
        assertThat(Utf8.cut("é€😀", 9)).isEqualTo("é€😀");
    }

    @Test
    void cutsAtTheLastWholeCharacterThatFits() {
        assertThat(Utf8.cut("aé", 2)).isEqualTo("a");
        assertThat(Utf8.cut("a€b", 3)).isEqualTo("a");
        assertThat(Utf8.cut("a€b", 4)).isEqualTo("a€");
        assertThat(Utf8.cut("a😀", 4)).as("a surrogate pair is never split").isEqualTo("a");
        assertThat(Utf8.cut("a😀", 5)).isEqualTo("a😀");
        assertThat(Utf8.cut("é", 0)).isEmpty();
    }

    @Test
    void theCutIsTheLongestPrefixWithinTheLimit() {
        String text = "ü€😀x".repeat(50);
        for (int max = 0; max <= 500; max++) {
            String cut = Utf8.cut(text, max);
            int bytes = cut.getBytes(StandardCharsets.UTF_8).length;
            assertThat(text).startsWith(cut);
            assertThat(bytes).isLessThanOrEqualTo(max);
            if (cut.length() < text.length()) {
                String longer = text.substring(0, text.offsetByCodePoints(cut.length(), 1));
                assertThat(longer.getBytes(StandardCharsets.UTF_8).length).as("one character more").isGreaterThan(max);
            }
        }
    }

    @Test
    void refusesANegativeLimit() {
        assertThatThrownBy(() -> Utf8.cut("a", -1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxBytes -1 is negative");
    }
}
