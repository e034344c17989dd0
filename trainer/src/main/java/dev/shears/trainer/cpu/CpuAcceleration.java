package dev.shears.trainer.cpu;

import java.lang.reflect.Method;
import java.util.Locale;

import org.deeplearning4j.config.DL4JSystemProperties;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.layers.LayerHelper;
import org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.nativeblas.NativeOpsHolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * oneDNN convolution, pooling and batch normalisation for DL4J 1.0.0-M2.1 on the ND4J CPU backend, ND4J's shape
 * information made once per shape ({@link ShapeInfoCache}), and a report of the native threading settings.
 *
 * <h2>Why DL4J M2.1 does not use oneDNN by itself</h2>
 * <ol>
 *   <li>Its layer helpers are off by default: {@code HelperUtils.createHelper} returns null unless the system property
 *       {@value #HELPERS_DISABLE_PROPERTY} is {@code false} (the default is {@code true}).</li>
 *   <li>Even then, every oneDNN helper's {@code checkSupported()} asks {@code BaseMKLDNNHelper.mklDnnEnabled()}, which
 *       loads {@code org.nd4j.nativeblas.Nd4jCpu$Environment} and calls {@code isUseMKLDNN()}. M2.1 ships neither (the
 *       bindings are {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu}, the method {@code isUseONEDNN()}), so the
 *       check fails once and for all and the layers keep the built-in path: im2col + gemm for convolution.</li>
 *   <li>The default {@code nd4j-native} classifier {@code linux-x86_64} has no oneDNN inside; the
 *       {@code linux-x86_64-onednn} classifier (same version, statically linked oneDNN) does. The parent pom selects
 *       it.</li>
 * </ol>
 * {@link #enable()} sets DL4J's own switch, and the shim {@link org.nd4j.nativeblas.Nd4jCpu} answers the lookup in
 * (2) with the real state of the native build ({@link #oneDnnUsable()}). DL4J then creates its own
 * {@code MKLDNNConvHelper}, {@code MKLDNNSubsamplingHelper} and {@code MKLDNNBatchNormHelper} for every layer it builds
 * afterwards, however the network is built (configuration, clone, deserialisation). No reflection into DL4J.
 *
 * <h2>Use</h2>
 * Call {@link #enable()} once at start-up, before building networks (layers pick their helper when they are built).
 * It trains a tiny convolution / batch-norm / pooling network with fallback off, so a oneDNN failure shows at start-up;
 * on failure it switches the helpers off again and the built-in path is used. (Like building any seeded network, this
 * reseeds ND4J's global random generator: seed your own work after it.) A network must not be trained or run from
 * two threads at once: each layer's oneDNN helper keeps one native op context. It logs one line saying which path
 * convolution uses, e.g. {@code CPU: convolution=oneDNN (MKLDNNConvHelper), pooling=oneDNN (MKLDNNSubsamplingHelper),
 * batchnorm=oneDNN (MKLDNNBatchNormHelper); OpenMP threads=1 (OMP_NUM_THREADS=1), BLAS threads=1,
 * OMP_WAIT_POLICY=PASSIVE}. Kill switch: {@code -Dorg.eclipse.deeplearning4j.helpers.disable=true} on the command line
 * (an explicit value is respected).
 *
 * <h2>Threads: what the launcher must export</h2>
 * OpenMP (libgomp, shipped inside nd4j-native) reads its environment when the native library loads, so these must be
 * in the environment of the JVM, not set from Java:
 * <ul>
 *   <li>{@code OMP_WAIT_POLICY=PASSIVE}: idle OpenMP threads sleep instead of spinning. Without it every op leaves its
 *       threads busy-waiting, which is ruinous when the cores are shared (other workers, the JIT, GC).</li>
 *   <li>{@code OMP_NUM_THREADS=<cores given to this worker>}: ND4J uses it for its own ops, for oneDNN and for
 *       OpenBLAS. Unset, ND4J takes every physical core. For LeNet-size models one thread per worker process is
 *       usually best (see the bench numbers in the README).</li>
 * </ul>
 * {@link #setThreads(int)} changes the counts at run time, for the calling thread only (OpenMP's thread count is a
 * per-thread setting); the environment variable is the robust way.
 */
public final class CpuAcceleration {

    /** DL4J's switch for all layer helpers (oneDNN on CPU, cuDNN on CUDA); DL4J M2.1's default is {@code true}. */
    public static final String HELPERS_DISABLE_PROPERTY = DL4JSystemProperties.DISABLE_HELPER_PROPERTY;

    private static final Logger log = LoggerFactory.getLogger(CpuAcceleration.class);

    private static final String ONEDNN_BUILD_MARKER = "HAVE_ONEDNN";
    private static final String CPU_ENVIRONMENT_CLASS = "org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment";
    private static final String BUILT_IN_CONVOLUTION = "built-in (im2col + gemm)";
    private static final String BUILT_IN = "built-in";

    private static volatile Status status;
    private static volatile String backend;
    private static volatile Boolean oneDnnBuild;
    private static volatile Method isUseOneDnn;
    private static volatile Object cpuEnvironment;

    private CpuAcceleration() {}

    /**
     * What is active: which implementation convolution, pooling and batch normalisation use, and the native thread
     * settings.
     *
     * @param convolution  {@code oneDNN (MKLDNNConvHelper)} or {@code built-in (im2col + gemm)}
     * @param reason       why oneDNN is not used; null when it is
     * @param ompThreads   ND4J's OpenMP thread count ({@code Nd4j.getEnvironment().maxThreads()})
     * @param blasThreads  OpenBLAS's thread count
     * @param ompNumThreadsEnv  the JVM's {@code OMP_NUM_THREADS}, or null
     * @param ompWaitPolicyEnv  the JVM's {@code OMP_WAIT_POLICY}, or null
     */
    public record Status(String backend, boolean oneDnnBuild, String convolution, String pooling, String batchNorm,
            String reason, int ompThreads, int blasThreads, String ompNumThreadsEnv,
            String ompWaitPolicyEnv) {

        /** Convolution runs through oneDNN. */
        public boolean oneDnn() {
            return convolution.startsWith("oneDNN");
        }

        /** {@code OMP_WAIT_POLICY=PASSIVE} is in the JVM's environment. */
        public boolean passiveWait() {
            return "PASSIVE".equalsIgnoreCase(ompWaitPolicyEnv);
        }

        @Override
        public String toString() {
            return backend + ": convolution=" + convolution + ", pooling=" + pooling + ", batchnorm=" + batchNorm
                    + (reason == null ? "" : " [oneDNN off: " + reason + "]")
                    + "; OpenMP threads=" + ompThreads + " (OMP_NUM_THREADS=" + orUnset(ompNumThreadsEnv) + ")"
                    + ", BLAS threads=" + blasThreads + ", OMP_WAIT_POLICY=" + orUnset(ompWaitPolicyEnv);
        }

        private static String orUnset(String value) {
            return value == null ? "unset" : value;
        }
    }

    /**
     * Switches DL4J's oneDNN helpers on (idempotent; the first call decides), verifies them on a tiny network and logs
     * which path convolution uses. Call before building networks.
     *
     * @return what is active
     */
    public static synchronized Status enable() {
        if (status != null) {
            return status;
        }
        String backend = backend();
        String explicit = System.getProperty(HELPERS_DISABLE_PROPERTY);
        String reason = null;
        if (!"CPU".equalsIgnoreCase(backend)) {
            reason = "not the CPU backend";
        } else if (explicit != null && Boolean.parseBoolean(explicit)) {
            reason = "-D" + HELPERS_DISABLE_PROPERTY + "=" + explicit;
        } else if (!oneDnnBuild()) {
            reason = "nd4j-native was built without oneDNN (use the classifier linux-x86_64-onednn)";
        } else if (!oneDnnUsable()) {
            reason = "ND4J's native helpers or oneDNN are switched off (Nd4j.getEnvironment().allowHelpers / setUseONEDNN)";
        }

        String[] paths = {BUILT_IN_CONVOLUTION, BUILT_IN, BUILT_IN};
        if (reason == null) {
            System.setProperty(HELPERS_DISABLE_PROPERTY, "false");
            try {
                paths = probe();
                if (!paths[0].startsWith("oneDNN")) {
                    reason = "DL4J created no oneDNN helper (BaseMKLDNNHelper.mklDnnEnabled()="
                            + BaseMKLDNNHelper.mklDnnEnabled() + ", shim " + shimOrigin() + ")";
                }
            } catch (RuntimeException | LinkageError e) {
                reason = "oneDNN failed on a test network: " + e;
                log.warn("oneDNN failed on a test network; using DL4J's built-in CPU implementations", e);
                paths = new String[]{BUILT_IN_CONVOLUTION, BUILT_IN, BUILT_IN};
            }
            if (reason != null) {
                System.setProperty(HELPERS_DISABLE_PROPERTY, "true");
            }
        }
        status = snapshot(backend, paths, reason);
        log.info("{}", status);
        if ("CPU".equalsIgnoreCase(backend) && ShapeInfoCache.install()) {
            log.info("ND4J shape information and TADs: one per distinct shape (ShapeInfoCache, CpuTads)");
        }
        log.info("JVM: {}", jvm());
        warnAboutThreads(status);
        return status;
    }

    /**
     * What is active now: the paths as {@link #enable()} found them (or DL4J's default, built-in, when it was not
     * called) and the current thread settings.
     */
    public static Status status() {
        Status enabled = status;
        if (enabled == null) {
            String reason = "CpuAcceleration.enable() not called";
            return snapshot(backend(), new String[]{BUILT_IN_CONVOLUTION, BUILT_IN, BUILT_IN}, reason);
        }
        return snapshot(enabled.backend(), new String[]{enabled.convolution(), enabled.pooling(), enabled.batchNorm()},
                enabled.reason());
    }

    /**
     * One line about the JVM that runs ND4J: its version, the options it was started with, its maximum heap and
     * the processors it sees, e.g. {@code 17.0.15, options [-Xmx768m, -XX:+UseSerialGC], max heap 768 MB,
     * 1 processor(s)}.
     */
    public static String jvm() {
        java.lang.management.RuntimeMXBean runtime = java.lang.management.ManagementFactory.getRuntimeMXBean();
        return Runtime.version() + ", options " + runtime.getInputArguments() + ", max heap "
                + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MB, "
                + Runtime.getRuntime().availableProcessors() + " processor(s)";
    }

    /** One line: oneDNN on/off per layer kind, OpenMP and BLAS threads, wait policy. */
    public static String describe() {
        return status().toString();
    }

    /**
     * Sets ND4J's OpenMP thread count, its own op thread limits and OpenBLAS's thread count at run time. OpenMP keeps
     * the count per thread: this affects the calling thread (call it on the thread that trains). Prefer
     * {@code OMP_NUM_THREADS} in the JVM's environment.
     */
    public static void setThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(threads);
        Nd4j.getEnvironment().setMaxThreads(threads);
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        Nd4j.factory().blas().setMaxThreads(threads);
    }

    /**
     * Whether the ND4J CPU backend can run oneDNN now: it was built with oneDNN, native helpers are allowed and its
     * oneDNN flag is on. What {@link org.nd4j.nativeblas.Nd4jCpu.Environment#isUseMKLDNN()} answers to DL4J.
     */
    public static boolean oneDnnUsable() {
        if (!"CPU".equalsIgnoreCase(backend()) || !oneDnnBuild() || !Nd4j.getEnvironment().helpersAllowed()) {
            return false;
        }
        try {
            if (isUseOneDnn == null) {
                Class<?> environment = Class.forName(CPU_ENVIRONMENT_CLASS);
                cpuEnvironment = environment.getMethod("getInstance").invoke(null);
                isUseOneDnn = environment.getMethod("isUseONEDNN");
            }
            return (Boolean) isUseOneDnn.invoke(cpuEnvironment);
        } catch (ReflectiveOperationException | LinkageError e) {
            log.debug("Cannot read ND4J's oneDNN flag", e);
            return false;
        }
    }

    /** The ND4J native build has oneDNN linked in (its build information lists HAVE_ONEDNN). */
    public static boolean oneDnnBuild() {
        Boolean built = oneDnnBuild;
        if (built == null) {
            String info = "CPU".equalsIgnoreCase(backend()) ? Nd4j.getBackend().buildInfo() : "";
            built = info != null && info.contains(ONEDNN_BUILD_MARKER);
            oneDnnBuild = built;
        }
        return built;
    }

    private static String backend() {
        String name = backend;
        if (name == null) {
            name = Nd4j.getExecutioner().getEnvironmentInformation().getProperty("backend", "unknown");
            backend = name;
        }
        return name;
    }

    /** Trains one step of conv + batch norm + max pooling with helper fallback off; returns the helper per kind. */
    private static String[] probe() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(12345)
                .dataType(DataType.FLOAT)
                .list()
                .layer(new ConvolutionLayer.Builder(2, 2).nOut(2).activation(Activation.RELU)
                        .helperAllowFallback(false).build())
                .layer(new BatchNormalization.Builder().helperAllowFallback(false).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2)
                        .helperAllowFallback(false).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(5, 5, 1))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        INDArray features = Nd4j.linspace(DataType.FLOAT, 0.0, 0.02, 50).reshape(2, 1, 5, 5);
        INDArray labels = Nd4j.createFromArray(new float[][]{{1, 0}, {0, 1}});
        net.fit(features, labels);
        if (!Double.isFinite(net.score())) {
            throw new IllegalStateException("non-finite score " + net.score());
        }
        return new String[]{path(net.getLayer(0), BUILT_IN_CONVOLUTION), path(net.getLayer(2), BUILT_IN),
                path(net.getLayer(1), BUILT_IN)};
    }

    private static String path(Layer layer, String builtIn) {
        LayerHelper helper = layer.getHelper();
        return helper == null ? builtIn : "oneDNN (" + helper.getClass().getSimpleName() + ")";
    }

    private static String shimOrigin() {
        try {
            Class<?> shim = Class.forName("org.nd4j.nativeblas.Nd4jCpu$Environment");
            return shim.getName() + " from " + shim.getProtectionDomain().getCodeSource();
        } catch (ClassNotFoundException | SecurityException e) {
            return "missing";
        }
    }

    private static Status snapshot(String backend, String[] paths, String reason) {
        int blasThreads;
        try {
            blasThreads = Nd4j.factory().blas().getMaxThreads();
        } catch (RuntimeException e) {
            blasThreads = -1;
        }
        return new Status(backend.toUpperCase(Locale.ROOT), oneDnnBuild(), paths[0], paths[1], paths[2], reason,
                Nd4j.getEnvironment().maxThreads(), blasThreads, System.getenv("OMP_NUM_THREADS"),
                System.getenv("OMP_WAIT_POLICY"));
    }

    private static void warnAboutThreads(Status s) {
        if (!"CPU".equals(s.backend())) {
            return;
        }
        if (!s.passiveWait()) {
            log.warn("OMP_WAIT_POLICY is {}: idle OpenMP threads spin and steal the cores from other work. Export "
                    + "OMP_WAIT_POLICY=PASSIVE before starting the JVM.",
                    s.ompWaitPolicyEnv() == null ? "unset"
                            : s.ompWaitPolicyEnv());
        }
        if (s.ompNumThreadsEnv() == null) {
            log.info("OMP_NUM_THREADS is unset: ND4J uses {} threads (all physical cores). Export OMP_NUM_THREADS with "
                    + "the cores this worker may use before starting the JVM.", s.ompThreads());
        }
    }
}
