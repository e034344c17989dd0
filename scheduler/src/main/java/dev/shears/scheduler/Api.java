package dev.shears.scheduler;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.shears.common.events.JobProgress;
import dev.shears.common.recipe.Problem;
import dev.shears.common.recipe.Recipe;
import dev.shears.common.recipe.RecipeException;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API: {@code POST /jobs} (recipe YAML), {@code GET /jobs}, {@code GET /jobs/{id}},
 * {@code POST /jobs/{id}/cancel}, {@code DELETE /jobs/{id}}, {@code GET /metrics}, {@code GET /health}. Reads come
 * from the engine's published views; submit, cancel and delete are handed to the engine thread.
 *
 * <p>Exchanges run on {@link #THREADS} threads, each with {@code timeout} to read its request and write its answer
 * (the wait for the engine aside; see {@link ExchangePool}), and at most half of them wait for the engine at once:
 * slow clients and a slow broker hold a bounded part of the server, and {@code /health} is answered meanwhile.
 *
 * <p>With an {@link ApiToken}, every request but {@code GET /health} (for probes; it tells only up or down and the
 * number of jobs) must carry {@code Authorization: Bearer <token>} or gets 401. {@code /metrics} is behind the token
 * too: its labels name jobs and workers; Prometheus sends the token with {@code authorization: {credentials_file: ...}}.
 */
final class Api {

    private static final Logger log = LoggerFactory.getLogger(Api.class);
    static final int MAX_BODY = Recipe.MAX_BYTES;
    /** How much of a body over {@link #MAX_BODY} is read and discarded before answering 413; beyond it the connection is closed. */
    static final int MAX_DRAIN = 16 * MAX_BODY;
    private static final Pattern JOB = Pattern.compile("/jobs/([^/]+)");
    private static final Pattern CANCEL = Pattern.compile("/jobs/([^/]+)/cancel");
    private static final long ENGINE_TIMEOUT_S = 60;
    /** Threads that serve exchanges. */
    static final int THREADS = 16;

    private final Engine engine;
    private final PrometheusMeterRegistry registry;
    private final ApiToken token;
    private final HttpServer server;
    private final ExchangePool exchanges;
    private final Semaphore engineCalls = new Semaphore(THREADS / 2);

    /**
     * @param token the bearer token requests must carry, or null for none
     * @param timeout how long an exchange may take to read its request and write its answer, the engine's work aside
     */
    Api(Engine engine, PrometheusMeterRegistry registry, String host, int port, ApiToken token, Duration timeout)
            throws IOException {
        this.engine = engine;
        this.registry = registry;
        this.token = token;
        this.exchanges = new ExchangePool(THREADS, timeout);
        this.server = HttpServer.create(new InetSocketAddress(host, port), 64);
        server.createContext("/", this::handle);
        server.setExecutor(exchanges);
    }

    void start() {
        server.start();
    }

    InetSocketAddress address() {
        return server.getAddress();
    }

    void stop() {
        server.stop(0);
        exchanges.close();
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            route(x);
        }
    }

    /** Answers one exchange; a failure is answered too (the exchange is still open here). */
    private void route(HttpExchange x) throws IOException {
        try {
            String path = x.getRequestURI().getPath();
            String method = x.getRequestMethod();
            Matcher job = JOB.matcher(path);
            Matcher cancel = CANCEL.matcher(path);
            if (token != null && !path.equals("/health")
                    && !token.admits(x.getRequestHeaders().getFirst("Authorization"))) {
                x.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"shears\"");
                error(x, 401, "this scheduler requires its API token (fix: send Authorization: Bearer <token>; the"
                        + " shears commands read it from --token-file FILE or $" + ApiToken.ENV + ")");
                return;
            }
            if (path.equals("/jobs") || path.equals("/jobs/")) {
                if (method.equals("POST")) {
                    submit(x);
                } else if (method.equals("GET")) {
                    list(x);
                } else {
                    notAllowed(x, "GET, POST");
                }
            } else if (cancel.matches()) {
                if (method.equals("POST")) {
                    cancel(x, cancel.group(1));
                } else {
                    notAllowed(x, "POST");
                }
            } else if (job.matches()) {
                if (method.equals("GET")) {
                    get(x, job.group(1));
                } else if (method.equals("DELETE")) {
                    delete(x, job.group(1));
                } else {
                    notAllowed(x, "GET, DELETE");
                }
            } else if ((path.equals("/metrics") || path.equals("/health")) && !method.equals("GET")) {
                notAllowed(x, "GET");
            } else if (path.equals("/metrics")) {
                send(x, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape());
            } else if (path.equals("/health")) {
                Engine.Health health = engine.health();
                ObjectNode body = Engine.JSON.createObjectNode().put("status", health.up() ? "up" : "down")
                        .put("jobs", engine.views().size());
                if (!health.up()) {
                    body.put("reason", health.reason());
                }
                json(x, health.up() ? 200 : 503, body);
            } else {
                error(x, 404, "no resource " + path + " (fix: use /jobs, /jobs/{id}, /jobs/{id}/cancel, /metrics or"
                        + " /health)");
            }
        } catch (Engine.TooLarge e) {
            error(x, 413, e.getMessage());
        } catch (Engine.Unavailable e) {
            x.getResponseHeaders().set("Retry-After", "10");
            error(x, 503, "the scheduler could not do it now: " + e.getMessage() + " (fix: try again; GET /health"
                    + " says whether the scheduler runs)");
        } catch (RuntimeException e) {
            log.error("HTTP {} {} failed", x.getRequestMethod(), x.getRequestURI(), e);
            try {
                error(x, 500, "internal error: " + e);
            } catch (IOException | RuntimeException ignored) {
                // the response was already under way
            }
        }
    }

    private void submit(HttpExchange x) throws IOException {
        byte[] body;
        try (InputStream in = x.getRequestBody()) {
            body = in.readNBytes(MAX_BODY + 1);
            if (body.length > MAX_BODY) {
                // Read what is left, up to a bound, so that the client gets the 413 rather than a reset connection.
                drain(in, MAX_DRAIN);
            }
        }
        if (body.length > MAX_BODY) {
            error(x, 413, "recipe is over " + MAX_BODY + " bytes (fix: a recipe is a short YAML file; remove what"
                    + " is not a recipe field)");
            return;
        }
        Recipe recipe;
        try {
            recipe = Recipe.parse(new String(body, StandardCharsets.UTF_8));
        } catch (RecipeException e) {
            ObjectNode out = Engine.JSON.createObjectNode().put("error", "invalid recipe: " + e.problems().size()
                    + " problem(s)");
            ArrayNode problems = out.putArray("problems");
            for (Problem p : e.problems()) {
                problems.addObject().put("field", p.field()).put("message", p.message());
            }
            json(x, 400, out);
            return;
        }
        try {
            JobSnapshot s = onEngine(() -> engine.submit(recipe));
            x.getResponseHeaders().set("Location", "/jobs/" + s.job());
            json(x, 201, jobJson(s, true));
        } catch (Engine.Conflict e) {
            error(x, 409, e.getMessage());
        } catch (IllegalArgumentException e) {
            error(x, 400, e.getMessage());
        }
    }

    private void list(HttpExchange x) throws IOException {
        ObjectNode out = Engine.JSON.createObjectNode();
        ArrayNode jobs = out.putArray("jobs");
        engine.views().values().stream().sorted(Comparator.comparing(JobSnapshot::submitted)
                .thenComparing(JobSnapshot::job)).forEach(s -> jobs.add(withProgress(jobJson(s, false), s)));
        json(x, 200, out);
    }

    private void get(HttpExchange x, String id) throws IOException {
        JobSnapshot s = engine.views().get(id);
        if (s == null) {
            error(x, 404, "no job " + id + " (fix: GET /jobs lists the jobs)");
            return;
        }
        json(x, 200, withProgress(jobJson(s, true), s));
    }

    /** Adds {@code progress}: the running step's last heartbeat (seq, fraction, samplesPerSecond, worker), or null. */
    private ObjectNode withProgress(ObjectNode node, JobSnapshot s) {
        JobProgress p = engine.progress().get(s.job());
        node.set("progress", p == null || s.state().ended() ? null : Engine.JSON.valueToTree(p));
        return node;
    }

    private void cancel(HttpExchange x, String id) throws IOException {
        try {
            JobSnapshot s = onEngine(() -> engine.cancel(id, "cancelled via the scheduler's HTTP API"));
            json(x, 202, jobJson(s, true));
        } catch (Engine.NotFound e) {
            error(x, 404, e.getMessage() + " (fix: GET /jobs lists the jobs)");
        } catch (Engine.Conflict e) {
            error(x, 409, e.getMessage());
        }
    }

    private void delete(HttpExchange x, String id) throws IOException {
        try {
            onEngine(() -> {
                engine.delete(id);
                return id;
            });
            send(x, 204, "application/json", "");
        } catch (Engine.NotFound e) {
            error(x, 404, e.getMessage() + " (fix: GET /jobs lists the jobs)");
        } catch (Engine.Conflict e) {
            error(x, 409, e.getMessage());
        }
    }

    /**
     * Runs work on the engine thread and waits, without the exchange's deadline running; rethrows what it threw. At
     * most half the threads wait at once: the others serve reads and {@code /health}.
     */
    private <T> T onEngine(Callable<T> work) {
        if (!engineCalls.tryAcquire()) {
            throw new Engine.Unavailable(THREADS / 2 + " requests already wait for the scheduler", null);
        }
        try {
            return exchanges.waiting(() -> engine.call(work).get(ENGINE_TIMEOUT_S, TimeUnit.SECONDS));
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("the scheduler did not answer within " + ENGINE_TIMEOUT_S
                    + " s (fix: check that Kafka is reachable)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            engineCalls.release();
        }
    }

    /** The job as the API shows it: the snapshot without the state machine's bookkeeping. */
    static ObjectNode jobJson(JobSnapshot s, boolean full) {
        ObjectNode node = Engine.JSON.valueToTree(s);
        node.remove("internal");
        if (!full) {
            node.remove(List.of("history", "results"));
        }
        return node;
    }

    private static void drain(InputStream in, long bound) throws IOException {
        byte[] buffer = new byte[8192];
        int n;
        while (bound > 0 && (n = in.read(buffer, 0, (int) Math.min(buffer.length, bound))) > 0) {
            bound -= n;
        }
    }

    private static void notAllowed(HttpExchange x, String allowed) throws IOException {
        x.getResponseHeaders().set("Allow", allowed);
        error(x, 405, "method " + x.getRequestMethod() + " not allowed on " + x.getRequestURI().getPath()
                + " (fix: use " + allowed + ")");
    }

    private static void error(HttpExchange x, int status, String message) throws IOException {
        json(x, status, Engine.JSON.createObjectNode().put("error", message));
    }

    private static void json(HttpExchange x, int status, Object body) throws IOException {
        send(x, status, "application/json", Engine.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(body));
    }

    private static void send(HttpExchange x, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", type);
        x.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(bytes);
        }
    }
}
