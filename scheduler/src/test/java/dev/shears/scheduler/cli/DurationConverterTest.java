package dev.shears.scheduler.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shears.scheduler.SchedulerConfig;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DurationConverterTest {
    final DurationConverter converter = new DurationConverter();

    @Test
    void readsANumberAndAUnitIsoOrZero() {
        assertThat(converter.convert("90s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(converter.convert("30m")).isEqualTo(Duration.ofMinutes(30));
        assertThat(converter.convert("7d")).isEqualTo(Duration.ofDays(7));
        assertThat(converter.convert("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(converter.convert("PT2H")).isEqualTo(Duration.ofHours(2));
        assertThat(converter.convert("0")).isEqualTo(Duration.ZERO);
    }

    @Test
    void refusesWhatIsNotADurationNamingTheFix() {
        assertThatThrownBy(() -> converter.convert("7 days")).isInstanceOf(CommandLine.TypeConversionException.class)
                .hasMessageContaining("'7 days'").hasMessageContaining("fix:");
    }

    @Test
    void theSchedulersDefaultsAreTheConfigurationsDefaults() {
        SchedulerCommand command = new SchedulerCommand();
        new CommandLine(command).parseArgs("--bootstrap", "127.0.0.1:9092");
        assertThat(command.stallTimeout).isEqualTo(SchedulerConfig.DEFAULT_STALL_TIMEOUT);
        assertThat(command.stallResends).isEqualTo(SchedulerConfig.DEFAULT_STALL_RESENDS);
        assertThat(command.retainEnded).isEqualTo(SchedulerConfig.DEFAULT_RETAIN_ENDED);
        assertThat(command.httpTimeout).isEqualTo(SchedulerConfig.DEFAULT_HTTP_TIMEOUT);
    }
}
