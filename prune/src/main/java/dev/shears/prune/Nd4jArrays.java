package dev.shears.prune;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;

/**
 * The check of an array entry of a model zip, as {@code Nd4j.write} writes it and {@code Nd4j.read} reads it
 * (nd4j-api 1.0.0-M2.1), on its bytes alone. {@code Nd4j.read} allocates each of the array's two buffers, off-heap,
 * from the element count in that buffer's header before it reads a byte of the buffer: without this check a forged
 * header of a few bytes asks a worker for any amount of native memory.
 *
 * <p>The layout, big-endian as {@link java.io.DataOutputStream} writes it, is two buffers, the shape information then
 * the data. Each is a header, the allocation mode's name ({@code writeUTF}), the element count (an {@code int} for
 * {@code DIRECT}, {@code HEAP} and {@code JAVACPP}, a {@code long} for {@code LONG_SHAPE} and
 * {@code MIXED_DATA_TYPES}) and the data type's name ({@code writeUTF}), then that many elements of that type. The
 * shape information is {@code rank, shape[rank], stride[rank], extras, element-wise stride, order}, where the extras
 * hold the data type's flag and the empty flag.
 *
 * <p>An entry passes when both counts match the bytes it holds exactly, the data type is a numeric one, and the shape
 * information describes the data: as many elements as the data has, strides that stay inside it, the data's type,
 * order {@code 'c'} or {@code 'f'}, an element-wise stride of at most 1 (Nd4j.write never writes a view).
 */
final class Nd4jArrays {
    /** The entries of a DL4J model zip that {@code ModelSerializer} reads with {@code Nd4j.read}. */
    static final Set<String> ENTRIES = Set.of("coefficients.bin", "updaterState.bin");

    /** ND4J's {@code Shape.MAX_RANK}. */
    static final int MAX_RANK = 32;
    private static final Set<String> MODES = Set.of("DIRECT", "HEAP", "JAVACPP", "LONG_SHAPE", "MIXED_DATA_TYPES");
    /** The modes whose count is an int ({@code AllocationMode.ordinal() < 3}). */
    private static final Set<String> INT_COUNT_MODES = Set.of("DIRECT", "HEAP", "JAVACPP");
    /** {@code ArrayOptionsHelper}'s flags. */
    private static final long EMPTY = 8;
    private static final long COMPRESSED = 4;
    private static final long UNSIGNED = 8388608;
    private static final long UTF8 = 1048576;

    /** The data types an array entry may hold: ND4J's names, sizes in bytes and flags in the extras. */
    private enum Type {
        DOUBLE(8, 16384),
        FLOAT(4, 8192),
        HALF(2, 4096),
        BFLOAT16(2, 2048),
        LONG(8, 262144),
        INT(4, 131072),
        SHORT(2, 65536),
        BYTE(1, 32768),
        BOOL(1, 524288),
        UINT64(8, 262144 | UNSIGNED),
        UINT32(4, 131072 | UNSIGNED),
        UINT16(2, 65536 | UNSIGNED),
        UBYTE(1, 32768 | UNSIGNED);

        final int bytes;
        final long flags;

        Type(int bytes, long flags) {
            this.bytes = bytes;
            this.flags = flags;
        }

        static Type named(String name) {
            return Arrays.stream(values()).filter(t -> t.name().equals(name)).findFirst().orElse(null);
        }

        /** The type ND4J's {@code ArrayOptionsHelper.dataType(long)} reads from {@code extras}, flags tested in its order. */
        static String of(long extras) {
            if ((extras & COMPRESSED) != 0) {
                return "COMPRESSED";
            }
            boolean unsigned = (extras & UNSIGNED) != 0;
            for (Type t : new Type[]{HALF, BFLOAT16, FLOAT, DOUBLE, INT, LONG, BOOL, BYTE, SHORT}) {
                if ((extras & t.flags) != 0) {
                    return (!unsigned ? t : switch (t) {
                        case INT -> UINT32;
                        case LONG -> UINT64;
                        case BYTE -> UBYTE;
                        case SHORT -> UINT16;
                        default -> t;
                    }).name();
                }
            }
            return (extras & UTF8) != 0 ? "UTF8" : null;
        }
    }

    private record Header(String mode, long count, String type) {
    }

    private final Path file;
    private final String entry;
    private final DataInputStream in;
    private long left;

    private Nd4jArrays(Path file, String entry, DataInputStream in, long size) {
        this.file = file;
        this.entry = entry;
        this.in = in;
        this.left = size;
    }

    /**
     * Reads the headers of {@code entry} from {@code in} and refuses the entry as the class comment says.
     *
     * @param size the bytes the entry holds once inflated, as its central directory declares
     * @throws IllegalArgumentException when it is refused; the message names the file, the entry and what is wrong
     * @throws IOException when {@code in} cannot be read
     */
    static void check(Path file, String entry, DataInputStream in, long size) throws IOException {
        new Nd4jArrays(file, entry, in, size).check();
    }

    private void check() throws IOException {
        try {
            Header shapeHeader = header("shape information");
            if (!shapeHeader.type().equals("LONG") && !shapeHeader.type().equals("INT")) {
                throw refused("has shape information of type " + shapeHeader.type() + "; ND4J writes it as LONG");
            }
            int width = shapeHeader.type().equals("LONG") ? 8 : 4;
            if (shapeHeader.count() < 4 || shapeHeader.count() > 2 * MAX_RANK + 4
                    || shapeHeader.count() * width > left) {
                throw refused(
                        "declares " + shapeHeader.count() + " values of shape information, but an array of rank 0 to "
                                + MAX_RANK + " has 4 to " + (2 * MAX_RANK + 4) + " and the entry holds " + left
                                + " more bytes");
            }
            long[] info = new long[(int) shapeHeader.count()];
            for (int i = 0; i < info.length; i++) {
                info[i] = width == 8 ? in.readLong() : in.readInt();
            }
            left -= info.length * (long) width;
            Header data = header("data");
            Type type = Type.named(data.type());
            if (type == null) {
                throw refused(
                        "holds data of type " + data.type() + ", which is not a numeric type ND4J reads as it is");
            }
            if (data.count() > left / type.bytes || data.count() * type.bytes != left) {
                throw refused(
                        "declares " + data.count() + " " + type + " elements (" + type.bytes + " bytes each) but holds "
                                + left + " bytes of data after its headers");
            }
            checkShape(info, data.count(), type);
        } catch (EOFException e) {
            throw refused("ends inside its array headers");
        }
    }

    private Header header(String what) throws IOException {
        String mode = in.readUTF();
        if (!MODES.contains(mode)) {
            throw refused("has " + what + " with allocation mode '" + printable(mode) + "', which ND4J does not know");
        }
        boolean intCount = INT_COUNT_MODES.contains(mode);
        long count = intCount ? in.readInt() : in.readLong();
        String type = in.readUTF();
        if (!type.matches("[A-Z][A-Z0-9]{0,15}")) {
            throw refused("has " + what + " of data type '" + printable(type) + "', which ND4J does not know");
        }
        if (count < 0) {
            throw refused("declares " + count + " elements of " + what);
        }
        long bytes = 2 + mode.length() + (intCount ? 4 : 8) + 2 + type.length(); // ASCII: one byte a character
        if (bytes > left) {
            throw refused("ends inside its array headers");
        }
        left -= bytes;
        return new Header(mode, count, type);
    }

    /** Refuses shape information that does not describe {@code length} elements of {@code type} laid out in a buffer. */
    private void checkShape(long[] info, long length, Type type) {
        long rank = info[0];
        if (rank < 0 || rank > MAX_RANK || info.length != 2 * rank + 4) {
            throw refused(
                    "has " + info.length + " values of shape information for rank " + rank + "; rank r has 2r + 4");
        }
        int r = (int) rank;
        long[] shape = Arrays.copyOfRange(info, 1, 1 + r);
        long[] stride = Arrays.copyOfRange(info, 1 + r, 1 + 2 * r);
        long extras = info[1 + 2 * r];
        long elementWiseStride = info[2 + 2 * r];
        long order = info[3 + 2 * r];
        long elements = 1;
        long last = 0; // the offset of the last element the strides reach
        try {
            for (int i = 0; i < r; i++) {
                if (shape[i] < 0 || stride[i] < 0) {
                    throw refused("has shape " + Arrays.toString(shape) + " and strides " + Arrays.toString(stride)
                            + ", which ND4J writes as sizes and strides of 0 or more");
                }
                elements = Math.multiplyExact(elements, shape[i]);
                last = shape[i] == 0 ? last : Math.addExact(last, Math.multiplyExact(shape[i] - 1, stride[i]));
            }
        } catch (ArithmeticException e) {
            throw refused("has shape " + Arrays.toString(shape) + " and strides " + Arrays.toString(stride)
                    + ", whose element count or last offset overflows a long");
        }
        if (elements != length) {
            throw refused("has shape " + Arrays.toString(shape) + " of " + elements + " elements, but " + length
                    + " elements of data");
        }
        if (length > 0 && last >= length) {
            throw refused("has shape " + Arrays.toString(shape) + " and strides " + Arrays.toString(stride)
                    + ", which reach past its " + length + " elements of data");
        }
        if (order != 'c' && order != 'f') {
            throw refused("has order " + order + "; ND4J writes 'c' (" + (int) 'c' + ") or 'f' (" + (int) 'f' + ")");
        }
        if (elementWiseStride > 1 || elementWiseStride < -1) {
            throw refused("has element-wise stride " + elementWiseStride + "; an array ND4J writes has 1, 0 or -1");
        }
        String flagged = Type.of(extras);
        if (flagged == null) {
            return; // written before data types were flagged: Nd4j.read sets the extras to the data's type
        }
        if (!flagged.equals(type.name())) {
            throw refused("has extras " + extras + ", which ND4J reads as data type " + flagged + ", but data of type "
                    + type);
        }
        if ((extras & ~(type.flags | EMPTY)) != 0 || ((extras & EMPTY) != 0) != (length == 0)) {
            throw refused(
                    "has extras " + extras + ": flags other than its data type " + type + (length == 0 ? " and" : " or")
                            + " empty (" + EMPTY + ")");
        }
    }

    private IllegalArgumentException refused(String why) {
        return ModelZips.refused(file, "entry " + entry + " " + why);
    }

    private static String printable(String s) {
        String p = s.replaceAll("[^\\x20-\\x7e]", "?");
        return p.length() > 40 ? p.substring(0, 40) + "..." : p;
    }
}
