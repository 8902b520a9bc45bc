package dev.faultline.collector.passive;

import dev.faultline.core.abi.UffdAbi;

/**
 * The bpftrace program a passive capture runs: tracepoints only (this kernel has no kprobes), one
 * output line per observation, numbers only, so that {@link CapturedEvent#parse} reads them
 * without allocating. Struct fields are not decoded here: the program prints the raw 64-bit words
 * of each {@code uffd_msg} and {@code uffdio_*} struct and the Java side decodes them with the
 * offsets in {@link UffdAbi}, the one place the ABI lives.
 *
 * <p>Lines ({@code tid}: the thread; times are {@code nsecs}, CLOCK_MONOTONIC):
 * <pre>
 * B t                                      the probes are attached
 * U tid t fd                               userfaultfd(2) returned fd
 * C tid t fd                               a uffd fd was closed
 * M tid t code w1 w2 w3 tf ftid fa        one uffd_msg a read(2) returned (t: the read's exit), and the
 *                                          page_fault_user entry (time, thread, address; 0 if none) of its
 *                                          page, or of its faulting thread when UFFD_FEATURE_THREAD_ID gave one
 * I tid tEnter tExit nr ret w0 w1 w2 w3 w4 an ioctl of type 0xAA and its struct after the call
 * D tid t fd flags                         memfd_create(2) returned fd, created with flags (MFD_HUGETLB…)
 * P tid t address length flags fd          mmap(2) mapped length bytes at address (flags: MAP_*)
 * T 0 t                                    a tick, twice a second: time moves on with no events
 * </pre>
 *
 * <p>Invariant: only the traced process ({@code pid}, all its threads) is looked at; reads are
 * decoded only on file descriptors known to be a uffd: open at attach, returned by userfaultfd(2)
 * or USERFAULTFD_IOC_NEW, or used with a UFFDIO ioctl (a uffd passed over a socket is learnt at
 * its first ioctl).
 */
public final class BpftraceScript {
    /** Most messages decoded from one read(2): bpftrace needs a bounded loop. */
    public static final int MAX_MESSAGES_PER_READ = 64;

    private BpftraceScript() {
    }

    /**
     * The program for process {@code pid}.
     *
     * @param uffdFds its uffd file descriptors already open
     * @param spanLo  the lowest registered address already known (or -1 for none)
     * @param spanHi  the end of the highest registered range already known
     */
    public static String forPid(int pid, int[] uffdFds, long spanLo, long spanHi) {
        StringBuilder s = new StringBuilder();
        s.append("BEGIN {\n");
        s.append("  @lo = (uint64)").append(spanLo < 0 ? "0xffffffffffffffff" : "0x" + Long.toHexString(spanLo)).append(";\n");
        s.append("  @hi = (uint64)0x").append(Long.toHexString(spanLo < 0 ? 0 : spanHi)).append(";\n");
        for (int fd : uffdFds) {
            s.append("  @uffd[").append(fd).append("] = 1;\n");
        }
        s.append("  printf(\"B %lld\\n\", nsecs);\n}\n");
        String me = "pid == " + pid;
        s.append("tracepoint:syscalls:sys_exit_userfaultfd /").append(me).append(" && args->ret >= 0/ {\n")
         .append("  @uffd[args->ret] = 1; printf(\"U %d %lld %d\\n\", tid, nsecs, args->ret);\n}\n");
        s.append("tracepoint:syscalls:sys_enter_close /").append(me).append(" && @uffd[args->fd]/ {\n")
         .append("  delete(@uffd[args->fd]); printf(\"C %d %lld %d\\n\", tid, nsecs, args->fd);\n}\n");
        // What backs a registration, seen as it is made: smaps may be gone by the time its line is read
        s.append("tracepoint:syscalls:sys_enter_memfd_create /").append(me).append("/ { @mfl[tid] = args->flags + 1; }\n");
        s.append("tracepoint:syscalls:sys_exit_memfd_create /@mfl[tid]/ {\n")
         .append("  if (args->ret >= 0) { printf(\"D %d %lld %d %d\\n\", tid, nsecs, args->ret, @mfl[tid] - 1); }\n")
         .append("  delete(@mfl[tid]);\n}\n");
        s.append("tracepoint:syscalls:sys_enter_mmap /").append(me).append("/ { @ml[tid] = args->len; @mf[tid] = args->flags; @mfd[tid] = args->fd; }\n");
        s.append("tracepoint:syscalls:sys_exit_mmap /@ml[tid]/ {\n")
         .append("  if (args->ret > 0 && args->ret < 0x800000000000) {\n")
         .append("    printf(\"P %d %lld %lld %lld %lld %d\\n\", tid, nsecs, args->ret, @ml[tid], @mf[tid], (int32)@mfd[tid]);\n  }\n")
         .append("  delete(@ml[tid]); delete(@mf[tid]); delete(@mfd[tid]);\n}\n");
        // Every read of the process passes here; only a uffd's gets its buffer remembered.
        s.append("tracepoint:syscalls:sys_enter_read /").append(me).append("/ {\n")
         .append("  @rbuf[tid] = @uffd[args->fd] ? (uint64)args->buf : (uint64)0;\n}\n");
        int size = UffdAbi.SIZEOF_UFFD_MSG;
        s.append("tracepoint:syscalls:sys_exit_read /").append(me).append(" && args->ret >= ").append(size)
         .append(" && @rbuf[tid]/ {\n")
         .append("  $b = @rbuf[tid]; $t = nsecs; $n = (uint64)args->ret / ").append(size).append("; $i = (uint64)0;\n")
         .append("  while ($i < $n && $i < ").append(MAX_MESSAGES_PER_READ).append(") {\n")
         .append("    $m = $b + $i * ").append(size).append(";\n")
         .append("    $code = *(uint8*)uptr($m + ").append(UffdAbi.UFFD_MSG_EVENT).append(");\n")
         .append("    $w1 = *(uint64*)uptr($m + 8); $w2 = *(uint64*)uptr($m + 16); $w3 = *(uint64*)uptr($m + 24);\n")
         // the fault's entry, remembered by page_fault_user: by 4K page, else by the faulting thread (ptid)
         .append("    $k = $w2 >> 12; $tf = @pft[$k]; $ft = @pftid[$k]; $fa = @pfa[$k];\n")
         .append("    if ($tf != 0) { delete(@pft[$k]); delete(@pftid[$k]); delete(@pfa[$k]); }\n")
         .append("    $p = $w3 & 0xffffffff;\n")
         .append("    if ($tf == 0 && $code == ").append(UffdAbi.UFFD_EVENT_PAGEFAULT).append(" && $p != 0 && @tt[$p] != 0) {\n")
         .append("      $tf = @tt[$p]; $ft = $p; $fa = @ta[$p]; delete(@tt[$p]); delete(@ta[$p]);\n    }\n")
         .append("    printf(\"M %d %lld %d %lld %lld %lld %lld %d %lld\\n\", tid, $t, $code, $w1, $w2, $w3, $tf, $ft, $fa);\n")
         .append("    $i++;\n  }\n}\n");
        s.append("tracepoint:syscalls:sys_enter_ioctl /").append(me).append(" && ((args->cmd >> 8) & 0xff) == 0x")
         .append(Long.toHexString(UffdAbi.UFFD_API)).append("/ {\n")
         .append("  @uffd[args->fd] = 1; @icmd[tid] = args->cmd; @iarg[tid] = args->arg; @it[tid] = nsecs;\n}\n");
        s.append("tracepoint:syscalls:sys_exit_ioctl /@it[tid]/ {\n")
         .append("  $t = nsecs; $c = @icmd[tid]; $a = @iarg[tid]; $s = ($c >> 16) & 0x3fff;\n")
         .append("  if ($c == 0x").append(Long.toHexString(UffdAbi.USERFAULTFD_IOC_NEW)).append(" && args->ret >= 0) { @uffd[args->ret] = 1; }\n")
         .append("  if (($c & 0xff) == ").append(UffdAbi._UFFDIO_REGISTER).append(" && args->ret == 0 && $c != 0x")
         .append(Long.toHexString(UffdAbi.USERFAULTFD_IOC_NEW)).append(") {\n")
         .append("    $lo = *(uint64*)uptr($a); $hi = $lo + *(uint64*)uptr($a + 8);\n")
         .append("    if ($lo < @lo) { @lo = $lo; } if ($hi > @hi) { @hi = $hi; }\n  }\n")
         .append("  printf(\"I %d %lld %lld %d %lld %lld %lld %lld %lld %lld\\n\", tid, @it[tid], $t, $c & 0xff, args->ret,\n")
         .append("    $s >= 8 ? *(uint64*)uptr($a) : 0, $s >= 16 ? *(uint64*)uptr($a + 8) : 0, $s >= 24 ? *(uint64*)uptr($a + 16) : 0,\n")
         .append("    $s >= 32 ? *(uint64*)uptr($a + 24) : 0, $s >= 40 ? *(uint64*)uptr($a + 32) : 0);\n")
         .append("  delete(@it[tid]); delete(@icmd[tid]); delete(@iarg[tid]);\n}\n");
        // not printed (an output event per fault costs a reader wake-up in the traced process): kept
        // for the message that follows, which prints it
        s.append("tracepoint:exceptions:page_fault_user /").append(me).append(" && args->address >= @lo && args->address < @hi/ {\n")
         .append("  $k = args->address >> 12; @pft[$k] = nsecs; @pftid[$k] = tid; @pfa[$k] = args->address;\n")
         .append("  @tt[tid] = nsecs; @ta[tid] = args->address;\n}\n");
        s.append("interval:ms:500 { printf(\"T 0 %lld\\n\", nsecs); }\n");
        s.append("END { clear(@uffd); clear(@rbuf); clear(@icmd); clear(@iarg); clear(@it); clear(@lo); clear(@hi); clear(@pft); clear(@pftid); clear(@pfa); clear(@tt); clear(@ta); clear(@mfl); clear(@ml); clear(@mf); clear(@mfd); }\n");
        return s.toString();
    }
}
