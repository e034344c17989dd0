package dev.shears.common.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InvalidClassException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The process-wide deserialization filter: once installed, no class is deserialized, whatever its stream says. */
class SerialFilterTest {

    /** A stand-in for a gadget: deserializing it records that its code ran. */
    static final class Gadget implements Serializable {
        private static final long serialVersionUID = 1L;
        static final AtomicBoolean RAN = new AtomicBoolean();

        private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
            in.defaultReadObject();
            RAN.set(true);
        }
    }

    @BeforeAll
    static void install() {
        SerialFilter.install();
    }

    @Test
    void aClassOfThisProcessIsRefusedBeforeItsCodeRuns() throws IOException {
        byte[] bytes = serialize(new Gadget());
        Gadget.RAN.set(false);

        assertThatThrownBy(() -> deserialize(bytes)).isInstanceOf(InvalidClassException.class)
                .hasMessageContaining("REJECTED");
        assertThat(Gadget.RAN).as("the gadget's readObject ran").isFalse();
    }

    @Test
    void aJdkCollectionIsRefusedToo() throws IOException {
        byte[] bytes = serialize(new ArrayList<>(List.of("a")));

        assertThatThrownBy(() -> deserialize(bytes)).isInstanceOf(InvalidClassException.class)
                .hasMessageContaining("REJECTED");
    }

    @Test
    void aPrimitiveArrayOverTheLimitIsRefused() throws IOException {
        byte[] bytes = serialize(new byte[200_000]);

        assertThatThrownBy(() -> deserialize(bytes)).isInstanceOf(InvalidClassException.class)
                .hasMessageContaining("REJECTED");
    }

    @Test
    void installingAgainKeepsTheFilterInEffect() {
        ObjectInputFilter first = ObjectInputFilter.Config.getSerialFilter();

        assertThat(SerialFilter.install()).isSameAs(first);
        assertThat(first).isNotNull();
        assertThat(first.toString()).isEqualTo(SerialFilter.PATTERN);
    }

    private static byte[] serialize(Object o) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(o);
        }
        return bytes.toByteArray();
    }

    private static Object deserialize(byte[] bytes) throws IOException, ClassNotFoundException {
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
            return in.readObject();
        }
    }
}
