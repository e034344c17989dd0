package dev.shears.scheduler.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The client commands' behaviour at the edges, against no scheduler or a canned HTTP answer. */
class ClientCommandsTest {

    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    int run(Object command, String... args) {
        return new CommandLine(command).setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
    }

    static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void aRefusedConnectionNamesTheUrlAndHowToStartTheScheduler() throws Exception {
        String url = "http://127.0.0.1:" + closedPort();
        int code = run(new JobsCommand(), "--scheduler", url);
        assertThat(code).isNotZero();
        assertThat(err.toString()).contains(url).contains("connection refused")
                .contains("./shears scheduler --bootstrap").contains("--scheduler");
    }

    @Test
    void aMalformedSchedulerUrlIsRefusedWithAnExample() {
        assertThat(run(new StatusCommand(), "--scheduler", "not a url", "job")).isNotZero();
        assertThat(err.toString()).contains("not a URL").contains("fix:");
    }

    @Test
    void aRefusedRecipePrintsEveryProblem(@TempDir Path dir) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/jobs", x -> {
            x.getRequestBody().readAllBytes();
            byte[] body = """
                    {"error":"invalid recipe: 2 problem(s)","problems":[
                     {"field":"job","message":"job \\"Bad\\" is not a name (fix: lower case)"},
                     {"field":"schedule.finalSparsity","message":"schedule.finalSparsity 1.5 is out of range"}]}
                    """.getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(400, body.length);
            x.getResponseBody().write(body);
            x.close();
        });
        server.start();
        try {
            Path recipe = Files.writeString(dir.resolve("r.yaml"), "job: Bad\n");
            int code = run(new SubmitCommand(), "--scheduler", "http://127.0.0.1:" + server.getAddress().getPort(),
                    recipe.toString());
            assertThat(code).isNotZero();
            assertThat(err.toString()).contains("HTTP 400").contains("job: job \"Bad\" is not a name (fix: lower case)")
                    .contains("schedule.finalSparsity: schedule.finalSparsity 1.5 is out of range");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void aMissingRecipeFileIsNamed(@TempDir Path dir) {
        assertThat(run(new SubmitCommand(), dir.resolve("none.yaml").toString())).isNotZero();
        assertThat(err.toString()).contains("none.yaml").contains("fix:");
    }

    @Test
    void aClientWithAnUnreadableTokenFileNamesItAndTheFixBeforeAnyRequest(@TempDir Path dir) throws Exception {
        String url = "http://127.0.0.1:" + closedPort();
        int code = run(new JobsCommand(), "--scheduler", url, "--token-file", dir.resolve("absent").toString());
        assertThat(code).isNotZero();
        assertThat(err.toString()).contains("absent").contains("fix:").doesNotContain("connection refused");
    }

    @Test
    void theSchedulerNeedsBootstrapServers() {
        assertThat(run(new SchedulerCommand())).isEqualTo(2);
        assertThat(err.toString()).contains("--bootstrap");
    }
}
