package dev.faultline.core.abi;

/**
 * Linux errno numbers (x86-64, asm-generic) by the kernel's own names, for error messages and for
 * the capability probe's answers.
 *
 * <p>Only the names are held here; {@link #name(int)} answers {@code "errno 123"} for a number it
 * does not know, so an unknown errno is never hidden.
 */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int E2BIG = 7;
    public static final int EBADF = 9;
    public static final int ECHILD = 10;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int ENFILE = 23;
    public static final int EMFILE = 24;
    public static final int ENOTTY = 25;
    public static final int EFBIG = 27;
    public static final int ENOSPC = 28;
    public static final int ESPIPE = 29;
    public static final int EPIPE = 32;
    public static final int ERANGE = 34;
    public static final int ENOSYS = 38;
    public static final int ENOTSUP = 95;
    public static final int EOPNOTSUPP = 95;
    public static final int ETIMEDOUT = 110;
    public static final int EHWPOISON = 133;

    private static final String[] NAMES = new String[134];

    static {
        String[][] table = {
            {"1", "EPERM"}, {"2", "ENOENT"}, {"3", "ESRCH"}, {"4", "EINTR"}, {"5", "EIO"},
            {"6", "ENXIO"}, {"7", "E2BIG"}, {"8", "ENOEXEC"}, {"9", "EBADF"}, {"10", "ECHILD"},
            {"11", "EAGAIN"}, {"12", "ENOMEM"}, {"13", "EACCES"}, {"14", "EFAULT"},
            {"15", "ENOTBLK"}, {"16", "EBUSY"}, {"17", "EEXIST"}, {"18", "EXDEV"},
            {"19", "ENODEV"}, {"20", "ENOTDIR"}, {"21", "EISDIR"}, {"22", "EINVAL"},
            {"23", "ENFILE"}, {"24", "EMFILE"}, {"25", "ENOTTY"}, {"26", "ETXTBSY"},
            {"27", "EFBIG"}, {"28", "ENOSPC"}, {"29", "ESPIPE"}, {"30", "EROFS"},
            {"31", "EMLINK"}, {"32", "EPIPE"}, {"33", "EDOM"}, {"34", "ERANGE"},
            {"35", "EDEADLK"}, {"36", "ENAMETOOLONG"}, {"37", "ENOLCK"}, {"38", "ENOSYS"},
            {"39", "ENOTEMPTY"}, {"40", "ELOOP"}, {"61", "ENODATA"}, {"75", "EOVERFLOW"},
            {"95", "EOPNOTSUPP"}, {"110", "ETIMEDOUT"}, {"125", "ECANCELED"},
            {"133", "EHWPOISON"},
        };
        for (String[] row : table) {
            NAMES[Integer.parseInt(row[0])] = row[1];
        }
    }

    private Errno() {
    }

    /** The kernel's name for {@code errno} ({@code EEXIST}), or {@code "errno N"} if unknown. */
    public static String name(int errno) {
        int e = Math.abs(errno);
        String n = e < NAMES.length ? NAMES[e] : null;
        return n != null ? n : "errno " + e;
    }

    /**
     * The number for a name that {@link #name(int)} gives, or -1. Used when reading probe output and
     * traces back.
     */
    public static int byName(String name) {
        for (int i = 0; i < NAMES.length; i++) {
            if (name.equals(NAMES[i])) {
                return i;
            }
        }
        return -1;
    }
}
