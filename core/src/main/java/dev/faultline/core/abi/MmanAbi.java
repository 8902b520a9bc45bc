package dev.faultline.core.abi;

/**
 * Memory-mapping and file ABI constants (x86-64) under the kernel's names: mmap protections and
 * flags, memfd_create flags, madvise advice, mremap flags, open flags and signals, scheduling
 * policies and prctl options.
 */
public final class MmanAbi {
    private MmanAbi() {
    }

    public static final int PROT_NONE = 0x0;
    public static final int PROT_READ = 0x1;
    public static final int PROT_WRITE = 0x2;

    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_FIXED = 0x10;
    public static final int MAP_FIXED_NOREPLACE = 0x100000;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_NORESERVE = 0x4000;
    public static final int MAP_POPULATE = 0x8000;
    public static final int MAP_HUGETLB = 0x40000;
    public static final int MAP_HUGE_SHIFT = 26;

    public static final int MFD_CLOEXEC = 0x1;
    public static final int MFD_HUGETLB = 0x4;
    public static final int MFD_HUGE_SHIFT = 26;

    public static final int MADV_DONTNEED = 4;
    public static final int MADV_REMOVE = 9;

    public static final int MREMAP_MAYMOVE = 1;
    public static final int MREMAP_FIXED = 2;
    public static final int MREMAP_DONTUNMAP = 4;

    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0x40;
    public static final int O_EXCL = 0x80;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;
    /** An unnamed file in the given directory, gone when its last descriptor closes (__O_TMPFILE | O_DIRECTORY). */
    public static final int O_TMPFILE = 0x410000;
    /** linkat(2): paths relative to the working directory. */
    public static final int AT_FDCWD = -100;
    /** linkat(2): follow a symbolic link (/proc/self/fd/N) to the file it names, which links an O_TMPFILE file. */
    public static final int AT_SYMLINK_FOLLOW = 0x400;

    public static final int POLLIN = 0x1;
    public static final int SIGKILL = 9;
    public static final int WNOHANG = 1;
    /**
     * sched_setscheduler policies: the default time-sharing one; the batch one, which never
     * preempts on waking and runs in whole slices; and the one that runs only when nothing else wants the CPU.
     */
    public static final int SCHED_OTHER = 0;
    public static final int SCHED_BATCH = 3;
    public static final int SCHED_IDLE = 5;
    /** prctl option: the calling thread's timer slack in ns (1 is the least; 0 restores the default). */
    public static final int PR_SET_TIMERSLACK = 29;
}
