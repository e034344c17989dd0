package dev.shears.trainer.cpu;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * oneDNN's own API (the JavaCPP presets {@code org.bytedeco:dnnl}), beside the copy libnd4j links in.
 *
 * <p>libnd4j keeps its oneDNN symbols private and rebuilds every primitive descriptor, and reorders every operand,
 * on each call. Shears' layer helpers create their primitives once per layer and input shape through this class and
 * run them on ND4J's buffers. The two copies do not meet: libnd4j's oneDNN is linked in statically with hidden
 * symbols, and both load the one OpenMP runtime ({@code libgomp.so.1}), so {@code OMP_NUM_THREADS} sets both.
 *
 * <p>Not thread-safe per object: a helper (and its {@link stream}) serves one network, which DL4J already requires to
 * run on one thread at a time. The engine is shared, as oneDNN allows.
 */
final class OneDnn {
    private static final Logger log = LoggerFactory.getLogger(OneDnn.class);

    private static volatile engine cpu;
    private static volatile String unavailable;

    private OneDnn() {}

    /** Whether the presets load and run here; the first call loads them. */
    static boolean available() {
        return unavailableReason() == null;
    }

    /**
     * Why oneDNN's own API cannot be used (ND4J computes on another backend than the CPU one, whose arrays are host
     * memory the primitives can read; or the library did not load), or null when it can.
     */
    static synchronized String unavailableReason() {
        if (cpu == null && unavailable == null) {
            String backend = NativeBackend.current().backend();
            if (!"CPU".equalsIgnoreCase(backend)) {
                unavailable = "ND4J computes on the " + backend + " backend; oneDNN's API runs on the CPU backend's"
                        + " arrays only";
                log.info("{}; Shears' oneDNN paths are off", unavailable);
                return unavailable;
            }
            try {
                cpu = new engine(engine.kind.cpu, 0);
            } catch (RuntimeException | LinkageError e) {
                unavailable = "oneDNN's JavaCPP presets (org.bytedeco:dnnl) did not load: " + e;
                log.warn("{}; DL4J's own oneDNN helpers stay in use", unavailable);
            }
        }
        return unavailable;
    }

    /** The CPU engine; call only when {@link #available()}. */
    static engine cpu() {
        if (!available()) {
            throw new IllegalStateException(unavailable);
        }
        return cpu;
    }

    /** A plain-layout memory descriptor for float data of {@code dims} in {@code tag}'s order. */
    static memory.desc plain(long[] dims, memory.format_tag tag) {
        return new memory.desc(dims, memory.data_type.f32, tag);
    }

    /** A plain NCHW memory descriptor for float data of {@code dims}, DL4J's layout of images. */
    static memory.desc nchw(long[] dims) {
        return plain(dims, memory.format_tag.nchw);
    }

    /** A memory of {@code desc} on the CPU engine with no buffer yet: each call points it at its array. */
    static memory unbound(memory.desc desc) {
        return new memory(desc, cpu(), (Pointer) null);
    }

    /** oneDNN's choice of layout for float data of {@code dims}. */
    static memory.desc any(long[] dims) {
        return new memory.desc(dims, memory.data_type.f32, memory.format_tag.any);
    }

    /**
     * The address of {@code array}'s first element, for a memory's data handle. ND4J's buffer of a view already
     * starts at the view's offset ({@code INDArray.offset()} is that buffer's offset into the one it views).
     */
    static Pointer address(INDArray array) {
        return array.data().addressPointer();
    }

    /**
     * Whether {@code a}'s elements lie in row-major order without gaps. Unlike ND4J's
     * {@code Shape.hasDefaultStridesForShape}, it ignores the strides of dimensions of size 1 (a {@code [64, 1,
     * 28, 28]} array, a bias row that ND4J marks column-major), and it allocates nothing.
     */
    static boolean rowMajor(INDArray a) {
        long expected = 1;
        for (int i = a.rank() - 1; i >= 0; i--) {
            long size = a.size(i);
            if (size != 1 && a.stride(i) != expected) {
                return false;
            }
            expected *= size;
        }
        return true;
    }

    /** {@code a} itself when its elements lie in row-major order without gaps ({@link #rowMajor}), else a copy. */
    static INDArray contiguous(INDArray a) {
        return rowMajor(a) ? a : a.dup('c');
    }

    /**
     * The primitives a helper keeps per input shape: at most {@code capacity}, the least recently used dropped first
     * and handed to {@code dropped} (which may free it).
     */
    static <K, V> Map<K, V> recentPlans(int capacity, Consumer<? super V> dropped) {
        return new LinkedHashMap<>(8, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                if (size() <= capacity) {
                    return false;
                }
                dropped.accept(eldest.getValue());
                return true;
            }
        };
    }

    /** Runs {@code p} on {@code s} with {@code args} and waits for it. */
    static void run(primitive p, stream s, IntMemoryMap args) {
        p.execute(s, args);
        s._wait();
    }

    /**
     * One operand of a primitive: the memory over an ND4J array in the array's plain layout and, where the primitive
     * wants another layout, a memory in that layout and the reorder between the two. The array is bound for each call;
     * the other layout's buffer comes from DL4J's working-memory workspace ({@link #bind}) or, for small operands that
     * change every call anyway (weights), is oneDNN's own ({@link #owned}).
     */
    static final class Operand {
        private final memory.desc wanted;
        private final memory user;
        private final memory other;
        private final primitive reorder;
        private final IntMemoryMap reorderArgs;
        private final boolean owned;
        /** The working-memory array behind {@code other}, held while the primitive may use it. */
        private INDArray otherArray;

        private Operand(memory.desc userDesc, memory.desc wanted, boolean input, boolean owned) {
            engine e = cpu();
            this.wanted = wanted;
            this.user = new memory(userDesc, e, (Pointer) null);
            this.owned = owned;
            if (userDesc.equals(wanted)) {
                other = null;
                reorder = null;
                reorderArgs = null;
            } else {
                other = owned ? new memory(wanted, e) : new memory(wanted, e, (Pointer) null);
                reorder = input ? new reorder(user, other) : new reorder(other, user);
                reorderArgs = new IntMemoryMap();
                reorderArgs.put(org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM, input ? user : other);
                reorderArgs.put(org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO, input ? other : user);
            }
        }

        /** An array read by the primitive, its other layout in DL4J's working memory. */
        static Operand input(memory.desc userDesc, memory.desc wanted) {
            return new Operand(userDesc, wanted, true, false);
        }

        /** An array written by the primitive, its other layout in DL4J's working memory. */
        static Operand output(memory.desc userDesc, memory.desc wanted) {
            return new Operand(userDesc, wanted, false, false);
        }

        /** An array read by the primitive, its other layout in a buffer of oneDNN's kept with this operand. */
        static Operand ownedInput(memory.desc userDesc, memory.desc wanted) {
            return new Operand(userDesc, wanted, true, true);
        }

        /** An array written by the primitive, its other layout in a buffer of oneDNN's kept with this operand. */
        static Operand ownedOutput(memory.desc userDesc, memory.desc wanted) {
            return new Operand(userDesc, wanted, false, true);
        }

        /** The layout the primitive wants. */
        memory.desc wanted() {
            return wanted;
        }

        /** The memory the primitive uses. */
        memory forPrimitive() {
            return other == null ? user : other;
        }

        /**
         * Points this operand at {@code array} (plain layout, contiguous) and, when it needs its other layout in
         * working memory, at a buffer from {@code workspace} ({@code type}: the phase's working memory).
         */
        void bind(INDArray array, LayerWorkspaceMgr workspace, ArrayType type) {
            user.set_data_handle(address(array));
            if (other != null && !owned) {
                long floats = (wanted.get_size() + Float.BYTES - 1) / Float.BYTES;
                otherArray = workspace.createUninitialized(type, DataType.FLOAT, floats);
                other.set_data_handle(address(otherArray));
            }
        }

        /**
         * Where the layouts differ, copies an input from the array into the primitive's layout (call before the
         * primitive) or an output from the primitive's layout into the array (call after it).
         */
        void reorder(stream s) {
            if (reorder != null) {
                run(reorder, s, reorderArgs);
            }
        }
    }
}
