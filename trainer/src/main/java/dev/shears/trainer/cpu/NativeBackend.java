package dev.shears.trainer.cpu;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The ND4J backend this process computes on and its devices, as a worker reports them ({@code /health}, the
 * {@code shears_worker_info} gauge): {@code CPU} with one device, {@code cpu}, or {@code CUDA} with one device per GPU,
 * {@code cuda:<index> <name>}.
 *
 * @param backend ND4J's backend name, e.g. {@code CPU} or {@code CUDA}
 * @param devices the devices ND4J computes on, at least one
 * @param threads ND4J's OpenMP threads on the CPU backend (0 on others)
 */
public record NativeBackend(String backend, List<String> devices, int threads) {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DEVICES_KEY = "cuda.devicesInformation";
    private static final String DEVICE_NAME_KEY = "cuda.deviceName";

    public NativeBackend {
        devices = List.copyOf(devices);
        if (devices.isEmpty()) {
            throw new IllegalArgumentException(
                    "backend " + backend + " has no device: a backend computes on at least one");
        }
    }

    /** What this process's ND4J uses (loads ND4J's native libraries on first use). */
    public static NativeBackend current() {
        Properties info = Nd4j.getExecutioner().getEnvironmentInformation();
        String backend = info.getProperty("backend", "unknown");
        if (!"CUDA".equalsIgnoreCase(backend)) {
            return new NativeBackend(backend, List.of("cpu"), Nd4j.getEnvironment().maxThreads());
        }
        List<String> devices = new ArrayList<>();
        if (info.get(DEVICES_KEY) instanceof List<?> list) {
            for (Object device : list) {
                Object name = device instanceof Map<?, ?> m ? m.get(DEVICE_NAME_KEY) : null;
                devices.add("cuda:" + devices.size() + (name == null ? "" : " " + name));
            }
        }
        if (devices.isEmpty()) {
            for (int i = 0; i < Nd4j.getAffinityManager().getNumberOfDevices(); i++) {
                devices.add("cuda:" + i);
            }
        }
        return new NativeBackend(backend, devices.isEmpty() ? List.of("cuda") : devices, 0);
    }

    /** A worker's {@code /health} body, one line of JSON: {@code {"status":"ok","backend":"CPU","devices":["cpu"],"threads":1}}. */
    public String health() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", "ok");
        body.put("backend", backend);
        body.put("devices", devices);
        body.put("threads", threads);
        try {
            return JSON.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + this + " as JSON", e);
        }
    }
}
