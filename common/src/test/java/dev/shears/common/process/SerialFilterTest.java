package dev.shears.common.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InvalidClassException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputFilter.Status;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The process-wide deserialization filter: once installed, no class is deserialized, whatever its stream says, and a
 * stream is bounded. (That a gadget's code never runs, in a model file, is {@code ModelFilesTest} in the deploy module.)
 */
class SerialFilterTest {

    /** What the filter is asked about one step of a stream. */
    record Info(Class<?> serialClass, long arrayLength, long depth, long references, long streamBytes)
            implements
                ObjectInputFilter.FilterInfo {
    }

    @BeforeAll
    static void install() {
        SerialFilter.install();
    }

    static ObjectInputFilter filter() {
        return ObjectInputFilter.Config.getSerialFilter();
    }

    @ParameterizedTest
    @ValueSource(classes = {SerialFilterTest.class, ArrayList.class, Object.class, String[].class, Integer.class})
    void everyClassIsRejected(Class<?> type) {
        assertThat(filter().checkInput(new Info(type, type.isArray() ? 1 : -1, 1, 1, 100))).isEqualTo(Status.REJECTED);
    }

    @Test
    void aStreamPastALimitIsRejected() {
        assertThat(filter().checkInput(new Info(null, -1, 10, 1000, 1 << 20))).isEqualTo(Status.UNDECIDED);
        assertThat(filter().checkInput(new Info(null, -1, 11, 1, 100))).isEqualTo(Status.REJECTED);
        assertThat(filter().checkInput(new Info(null, -1, 1, 1001, 100))).isEqualTo(Status.REJECTED);
        assertThat(filter().checkInput(new Info(null, -1, 1, 1, (1 << 20) + 1))).isEqualTo(Status.REJECTED);
        assertThat(filter().checkInput(new Info(byte[].class, 100_001, 1, 1, 100))).isEqualTo(Status.REJECTED);
    }

    @Test
    void anObjectStreamOfAJdkCollectionIsRefused() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(new ArrayList<>(List.of("a")));
        }

        assertThatThrownBy(() -> {
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
                in.readObject();
            }
        }).isInstanceOf(InvalidClassException.class).hasMessageContaining("REJECTED");
    }

    @Test
    void installingAgainKeepsTheFilterInEffect() {
        ObjectInputFilter first = filter();

        assertThat(SerialFilter.install()).isSameAs(first);
        assertThat(first).isNotNull();
        assertThat(first.toString()).isEqualTo(SerialFilter.PATTERN);
    }
}
