package dev.shears.common.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import dev.shears.common.events.Rejection.Reason;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DeadLetterTest {

    @Test
    void theHeadersSayWhyAndWhereFrom() {
        Rejection rejection = (Rejection) new EventCodec().decode(
                "{\"type\":\"PruneStep\",\"version\":1,\"jobId\":\"../etc\"}".getBytes(StandardCharsets.UTF_8));

        Map<String, String> headers = DeadLetter.headers(rejection, "shears.commands", 3, 1234L);

        assertThat(headers).containsExactly(
                entry("shears.dlt.reason", "missing_field"),
                entry("shears.dlt.detail",
                        "eventId is missing (fix: every event has type, version, eventId, jobId, seq,"
                                + " time, payload)"),
                entry("shears.dlt.field", "eventId"),
                entry("shears.dlt.source.topic", "shears.commands"),
                entry("shears.dlt.source.partition", "3"),
                entry("shears.dlt.source.offset", "1234"));
    }

    @Test
    void aReasonReadsBackFromItsHeader() {
        for (Reason reason : Reason.values()) {
            assertThat(Reason.fromCode(reason.code())).contains(reason);
        }
        assertThat(Reason.fromCode("MALFORMED")).isEmpty();
    }

    @Test
    void coordinatesAreNeverNegative() {
        Rejection r = new Rejection(Reason.MALFORMED, "", "x");

        assertThatThrownBy(() -> DeadLetter.headers(r, "t", -1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DeadLetter.headers(r, "t", 0, -1)).isInstanceOf(IllegalArgumentException.class);
    }
}
