// SPDX-License-Identifier: GPL-2.0
/*
 * Faultline's passive capture, the kernel side: watches one process's userfaultfd handler on
 * tracepoints (this kernel has no kprobes) and either hands every observation to user space as
 * a binary record in a BPF ring buffer (CAPTURE_EVENTS), or links faults to their resolving
 * ioctls here and keeps only latency histograms and counts (CAPTURE_SUMMARY).
 *
 * Why a program of our own rather than bpftrace: bpftrace prints through a perf event that
 * wakes its reader on every line, inside the traced process's time slice; that halved a
 * spinning handler. Records here are submitted with BPF_RB_NO_WAKEUP and the reader polls.
 *
 * The records' layouts are mirrored in dev.faultline.collector.passive.bpf.CaptureRecord and the
 * maps' in CaptureMaps: change one, change the other (CaptureProgramTest checks a capture end to end).
 * Syscall arguments are read from the task's saved registers at syscall exit (x86-64 pt_regs), so
 * most syscalls need one probe, and a read that returns less than one uffd_msg costs a compare.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

typedef __u16 u16;
typedef __u32 u32;
typedef __s32 s32;
typedef __u64 u64;
typedef __s64 s64;

struct task_struct;
struct pt_regs;

/* ---- x86-64 pt_regs: offsets of the syscall argument registers --------------------------- */
#define REG_DI 112 /* arg 0 */
#define REG_SI 104 /* arg 1 */
#define REG_DX 96  /* arg 2 */
#define REG_R10 56 /* arg 3 */
#define REG_R8 72  /* arg 4 */

/* ---- userfaultfd ABI (include/uapi/linux/userfaultfd.h) ---------------------------------- */
#define UFFD_API_TYPE 0xAA
#define USERFAULTFD_IOC_NEW 0xAA00
#define NR_REGISTER 0x00
#define NR_UNREGISTER 0x01
#define NR_WAKE 0x02
#define NR_COPY 0x03
#define NR_ZEROPAGE 0x04
#define NR_MOVE 0x05
#define NR_WRITEPROTECT 0x06
#define NR_CONTINUE 0x07
#define NR_POISON 0x08
#define NR_API 0x3F
#define UFFDIO_WRITEPROTECT_MODE_WP 1
#define UFFD_EVENT_PAGEFAULT 0x12
#define SIZEOF_UFFD_MSG 32
#define EAGAIN 11
#define MAX_MESSAGES_PER_READ 64

#define MAP_HUGETLB 0x40000
#define MAP_ANONYMOUS 0x20
#define MFD_HUGETLB 0x4
#define HUGE_SHIFT 26
#define SOL_SOCKET 1
#define SCM_RIGHTS 1

/* ---- configuration (written by user space before the probes are attached) ----------------- */
#define CAPTURE_SUMMARY 1u /* cfg.flags: link and count here; no per-fault records */
#define CAPTURE_FOLLOW 2u  /* cfg.flags: while the traced process has no uffd, one its descendants open makes
                            * that descendant the traced process (a handler started by a wrapper script) */
#define CAPTURE_SETTLED 4u /* cfg.flags, set here: the traced process has a uffd; no more following */

#define MAX_REGIONS 64
#define MAX_HUGE_AREAS 64
#define HIST_REGIONS 32 /* regions with histograms of their own; later ones share the last */
#define HIST_OPS 9      /* indexed by the ioctl's nr: WAKE 2 .. POISON 8 */
#define HIST_MEASURES 3 /* fault -> resolve, queue (fault -> read), service (read -> resolve) */
#define HIST_BUCKETS 1024
#define SUB_BITS 5 /* 32 linear sub-buckets per power of two: a bucket is 1/32 of its octave wide */
#define COUNTERS 8
#define MAX_WAITERS 4
#define MAX_PAGES_PER_RESOLVE 512

struct config {
    u32 tgid;       /* the traced process; CAPTURE_FOLLOW changes it here, once */
    u32 flags;
    u32 regions;    /* slots of `regions` in use */
    u32 huge_areas; /* slots of `huge_areas` in use */
    u32 fork_child_pid; /* offset of child_pid in sched_process_fork's record (its format differs across kernels) */
    u32 pad;
};

struct region {
    u64 start;
    u64 end;
    u32 shift; /* log2 of its page size */
    u32 live;  /* 0 once unregistered */
};

struct huge_area {
    u64 start;
    u64 end;
    u32 shift;
    u32 pad;
};

/* ---- records --------------------------------------------------------------------------- */
#define REC_MSG 1   /* a uffd_msg a read(2) returned */
#define REC_IOCTL 2 /* a UFFDIO_* ioctl, at its exit */
#define REC_UFFD 3  /* a file descriptor became known as a uffd */
#define REC_CLOSE 4 /* a uffd was closed */
#define REC_MEMFD 5 /* memfd_create(2) returned */
#define REC_MMAP 6  /* mmap(2) returned */
#define REC_EXIT 7  /* the process's main thread exited */
#define REC_FDS 8   /* file descriptors received over a socket (SCM_RIGHTS) */
#define REC_FOLLOW 9 /* CAPTURE_FOLLOW: a descendant opened a uffd and is the traced process now (fd: it, how: the one before) */

#define UFFD_CANDIDATE 2 /* uffds map value: received over a socket, not yet known to be a uffd */

#define UFFD_BY_SYSCALL 1
#define UFFD_BY_DEVICE 2
#define UFFD_BY_IOCTL 3

struct rec_head {
    u32 type;
    u32 tid;
    u64 time; /* bpf_ktime_get_ns: CLOCK_MONOTONIC */
};

struct rec_msg {
    struct rec_head h;   /* time: the read's exit */
    u64 msg[4];          /* the uffd_msg as the kernel wrote it */
    u64 fault_time;      /* page_fault_user on its page, 0 if none was seen */
    u64 fault_address;
    u32 fault_tid;
    s32 fd;
};

struct rec_ioctl {
    struct rec_head h; /* time: the ioctl's exit */
    u64 enter;
    u32 nr;
    s32 fd;
    s64 ret;
    u32 slot; /* REGISTER: the region slot it was given */
    u32 pad;
    u64 arg[5]; /* the argument struct after the call (the kernel writes results into it) */
};

struct rec_fd {
    struct rec_head h;
    s32 fd;
    u32 how; /* REC_UFFD: UFFD_BY_*; REC_MEMFD: the MFD_* flags */
};

struct rec_mmap {
    struct rec_head h;
    u64 address;
    u64 length;
    u64 flags;
    s32 fd;
    u32 prot;
};

struct rec_fds {
    struct rec_head h;
    u32 count;
    u32 pad;
    s32 fds[8];
};

/* ---- maps ------------------------------------------------------------------------------ */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, struct config);
} config SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, MAX_REGIONS);
    __type(key, u32);
    __type(value, struct region);
} regions SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, MAX_HUGE_AREAS);
    __type(key, u32);
    __type(value, struct huge_area);
} huge_areas SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 32 << 20); /* user space may resize it before loading */
} records SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, u64);
} lost SEC(".maps");

/* Reads of a traced uffd: [READS_EMPTY] found no message (EAGAIN), [READS_FULL] returned some. A
 * handler that polls without sleeping makes many empty reads per full one; one in poll(2) about one. */
#define READS_EMPTY 0
#define READS_FULL 1
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 2);
    __type(key, u32);
    __type(value, u64);
} uffd_reads SEC(".maps");

static __always_inline void count_read(u32 kind)
{
    u64 *n = bpf_map_lookup_elem(&uffd_reads, &kind);
    if (n)
        (*n)++;
}

/* the process's uffds, and hugetlb memfds (fd -> page shift) */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, s32);
    __type(value, u32);
} uffds SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, s32);
    __type(value, u32);
} huge_fds SEC(".maps");

/* CAPTURE_FOLLOW: the processes the traced one started, and theirs (tgid -> 1), fed at fork */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 4096);
    __type(key, u32);
    __type(value, u32);
} family SEC(".maps");

struct ioctl_call {
    u64 cmd;
    u64 arg;
    u64 enter;
    s32 fd;
    u32 pad;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, u32);
    __type(value, struct ioctl_call);
} ioctls SEC(".maps");

struct fault_entry {
    u64 time;
    u64 address;
    u32 tid;
    u32 pad;
};

/* page_fault_user, by page (address >> the region's page shift), until its message is read (a
 * plain hash: an LRU's bookkeeping cost a spinning handler more than the entries it would reclaim) */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, u64);
    __type(value, struct fault_entry);
} faults SEC(".maps");

/* CAPTURE_SUMMARY: faults read and not yet resolved, by page */
struct waiter {
    u64 fault_time; /* 0 if no page_fault_user was seen */
    u64 read_time;
    u32 tid;
    u32 pad;
};

struct pending {
    u32 slot;
    u32 count;
    struct waiter w[MAX_WAITERS];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, u64);
    __type(value, struct pending);
} pendings SEC(".maps");

/* CAPTURE_SUMMARY: counts of log-linear latency buckets, [region][op][measure][bucket] */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, HIST_REGIONS * HIST_OPS * HIST_MEASURES * HIST_BUCKETS);
    __type(key, u32);
    __type(value, u64);
} histograms SEC(".maps");

/* CAPTURE_SUMMARY: [region][op][counter] */
#define C_FAULTS 0        /* faults this op resolved */
#define C_FAULTS_TIMED 1  /* of which a page_fault_user was seen */
#define C_RESOLVES 2      /* calls no fault was waiting on */
#define C_RESOLVE_BYTES 3 /* bytes those covered */
#define C_ERRORS 4        /* calls that returned an error */
#define C_CALLS 5         /* calls in all */
#define C_UNLINKED 6      /* waiters past MAX_WAITERS or pages past MAX_PAGES_PER_RESOLVE */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, HIST_REGIONS * HIST_OPS * COUNTERS);
    __type(key, u32);
    __type(value, u64);
} counters SEC(".maps");

/* CAPTURE_SUMMARY: per faulting thread */
struct blocked {
    u64 faults;
    u64 read_to_resolve;  /* QEMU's postcopy-vcpu-blocktime definition */
    u64 fault_to_resolve; /* from page_fault_user, where seen */
    u64 faults_timed;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, u32);
    __type(value, struct blocked);
} threads SEC(".maps");

/* ---- tracepoint contexts (the formats under /sys/kernel/tracing/events) ------------------ */
struct sys_enter_ctx {
    u64 common;
    s32 nr;
    u32 pad;
    u64 args[6];
};

struct sys_exit_ctx {
    u64 common;
    s32 nr;
    u32 pad;
    s64 ret;
};

struct page_fault_ctx {
    u64 common;
    u64 address;
    u64 ip;
    u64 error_code;
};

struct process_exit_ctx {
    u64 common;
    char comm[16];
    s32 pid;
    s32 prio;
};

/* ---- helpers --------------------------------------------------------------------------- */
static __always_inline struct config *conf(void)
{
    u32 zero = 0;
    return bpf_map_lookup_elem(&config, &zero);
}

/* The config if the current task belongs to the traced process, else NULL. */
static __always_inline struct config *traced(void)
{
    struct config *c = conf();
    if (!c || (bpf_get_current_pid_tgid() >> 32) != c->tgid)
        return 0;
    return c;
}

/* The config while the traced process has no uffd yet, if the current task belongs to it or to one of its descendants. */
static __always_inline struct config *traced_or_family(void)
{
    struct config *c = conf();
    if (!c)
        return 0;
    u32 tgid = bpf_get_current_pid_tgid() >> 32;
    if (tgid == c->tgid)
        return c;
    if ((c->flags & (CAPTURE_FOLLOW | CAPTURE_SETTLED)) != CAPTURE_FOLLOW || !bpf_map_lookup_elem(&family, &tgid))
        return 0;
    return c;
}

static __always_inline u32 current_tid(void)
{
    return (u32)bpf_get_current_pid_tgid();
}

static __always_inline u64 syscall_arg(u32 offset)
{
    struct task_struct *task = bpf_get_current_task_btf();
    struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
    u64 v = 0;
    bpf_probe_read_kernel(&v, sizeof(v), (void *)regs + offset);
    return v;
}

static __always_inline void count_lost(void)
{
    u32 zero = 0;
    u64 *n = bpf_map_lookup_elem(&lost, &zero);
    if (n)
        (*n)++;
}

/* The live region slot holding `address` (its page shift in *shift), or -1. */
static __always_inline int region_of(struct config *c, u64 address, u32 *shift)
{
    u32 n = c->regions;
    for (u32 i = 0; i < MAX_REGIONS; i++) {
        if (i >= n)
            break;
        u32 k = i;
        struct region *r = bpf_map_lookup_elem(&regions, &k);
        if (r && r->live && address >= r->start && address < r->end) {
            *shift = r->shift;
            return i;
        }
    }
    return -1;
}

/* The page shift of the hugetlb mapping holding `address`, or 12. */
static __always_inline u32 page_shift_at(struct config *c, u64 address)
{
    u32 n = c->huge_areas;
    for (u32 i = 0; i < MAX_HUGE_AREAS; i++) {
        if (i >= n)
            break;
        u32 k = i;
        struct huge_area *a = bpf_map_lookup_elem(&huge_areas, &k);
        if (a && address >= a->start && address < a->end)
            return a->shift;
    }
    return 12;
}

static __always_inline void add_huge_area(struct config *c, u64 start, u64 length, u32 shift)
{
    u32 slot = __sync_fetch_and_add(&c->huge_areas, 1);
    if (slot >= MAX_HUGE_AREAS)
        return;
    struct huge_area a = {.start = start, .end = start + length, .shift = shift};
    bpf_map_update_elem(&huge_areas, &slot, &a, BPF_ANY);
}

static __always_inline void emit_fd(u32 type, s32 fd, u32 how)
{
    struct rec_fd *r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);
    if (!r) {
        count_lost();
        return;
    }
    r->h.type = type;
    r->h.tid = current_tid();
    r->h.time = bpf_ktime_get_ns();
    r->fd = fd;
    r->how = how;
    bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
}

/*
 * The current task is creating a uffd: the config if it belongs to the traced process, which is
 * settled from now on. Under CAPTURE_FOLLOW, while the traced process has none, a descendant that
 * creates one becomes the traced process (once: the fd- and address-keyed maps hold one address
 * space), and user space is told with REC_FOLLOW. Else NULL.
 */
static __always_inline struct config *adopting(void)
{
    struct config *c = traced_or_family();
    if (!c)
        return 0;
    u32 tgid = bpf_get_current_pid_tgid() >> 32;
    u32 was = c->tgid;
    if (tgid != was) {
        if (__sync_val_compare_and_swap(&c->tgid, was, tgid) != was)
            return 0; /* another descendant was adopted first */
        emit_fd(REC_FOLLOW, (s32)tgid, was);
    }
    if (!(c->flags & CAPTURE_SETTLED))
        __sync_fetch_and_or(&c->flags, CAPTURE_SETTLED);
    return c;
}

/* Marks `fd` as a uffd; records it when it is new. */
static __always_inline void learn_uffd(s32 fd, u32 how)
{
    u32 one = 1;
    if (bpf_map_lookup_elem(&uffds, &fd)) /* a lookup is cheaper than an update that fails */
        return;
    if (bpf_map_update_elem(&uffds, &fd, &one, BPF_NOEXIST) == 0)
        emit_fd(REC_UFFD, fd, how);
}

/* log-linear bucket: exact below 32 ns, then 32 buckets per power of two (about 3% wide) */
static __always_inline u32 bucket(u64 v)
{
    if (v < (1u << SUB_BITS))
        return (u32)v;
    u32 msb = 0;
    u64 x = v;
    if (x >> 32) { x >>= 32; msb += 32; }
    if (x >> 16) { x >>= 16; msb += 16; }
    if (x >> 8) { x >>= 8; msb += 8; }
    if (x >> 4) { x >>= 4; msb += 4; }
    if (x >> 2) { x >>= 2; msb += 2; }
    if (x >> 1) { msb += 1; }
    u32 sub = (u32)(v >> (msb - SUB_BITS)) & ((1u << SUB_BITS) - 1);
    u32 b = (msb - SUB_BITS + 1) * (1u << SUB_BITS) + sub;
    return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

static __always_inline u32 hist_slot(u32 slot)
{
    return slot < HIST_REGIONS ? slot : HIST_REGIONS - 1;
}

static __always_inline void hist_add(u32 slot, u32 op, u32 measure, u64 nanos)
{
    u32 k = ((hist_slot(slot) * HIST_OPS + op) * HIST_MEASURES + measure) * HIST_BUCKETS + bucket(nanos);
    u64 *n = bpf_map_lookup_elem(&histograms, &k);
    if (n)
        __sync_fetch_and_add(n, 1);
}

static __always_inline void counter_add(u32 slot, u32 op, u32 counter, u64 v)
{
    u32 k = (hist_slot(slot) * HIST_OPS + op) * COUNTERS + counter;
    u64 *n = bpf_map_lookup_elem(&counters, &k);
    if (n)
        __sync_fetch_and_add(n, v);
}

/* ---- probes ---------------------------------------------------------------------------- */

/* A user-mode fault on a registered page: remembered until its message is read. */
SEC("tracepoint/exceptions/page_fault_user")
int on_page_fault(struct page_fault_ctx *ctx)
{
    struct config *c = traced();
    if (!c)
        return 0;
    u32 shift = 12;
    if (region_of(c, ctx->address, &shift) < 0)
        return 0;
    struct fault_entry e = {.time = bpf_ktime_get_ns(), .address = ctx->address, .tid = current_tid()};
    u64 page = ctx->address >> shift;
    bpf_map_update_elem(&faults, &page, &e, BPF_ANY);
    return 0;
}

/* CAPTURE_SUMMARY: a fault read, waiting for its resolving ioctl. */
static __always_inline void summary_fault(u32 slot, u64 page, u64 fault_time, u64 read_time, u32 tid)
{
    struct pending *p = bpf_map_lookup_elem(&pendings, &page);
    if (!p) {
        struct pending fresh = {.slot = slot, .count = 1};
        fresh.w[0].fault_time = fault_time;
        fresh.w[0].read_time = read_time;
        fresh.w[0].tid = tid;
        bpf_map_update_elem(&pendings, &page, &fresh, BPF_ANY);
        return;
    }
    u32 i = p->count;
    if (i < MAX_WAITERS) {
        p->w[i].fault_time = fault_time;
        p->w[i].read_time = read_time;
        p->w[i].tid = tid;
        p->count = i + 1;
    } else {
        counter_add(slot, 0, C_UNLINKED, 1);
    }
}

struct read_walk {
    struct config *c;
    u64 buf;
    u64 now;
    u32 tid;
    s32 fd;
};

/* One uffd_msg of a read: recorded, or (CAPTURE_SUMMARY) a fault put to wait for its ioctl. */
static long read_one(u32 i, void *arg)
{
    struct read_walk *walk = arg;
    struct config *c = walk->c;
    u64 msg[4];
    if (bpf_probe_read_user(msg, sizeof(msg), (void *)(walk->buf + (u64)i * SIZEOF_UFFD_MSG)))
        return 1;
    u64 fault_time = 0, fault_address = 0;
    u32 fault_tid = 0;
    int slot = -1;
    u32 shift = 12;
    u64 page = 0;
    if ((msg[0] & 0xff) == UFFD_EVENT_PAGEFAULT) {
        slot = region_of(c, msg[2], &shift);
        page = msg[2] >> shift;
        struct fault_entry *e = bpf_map_lookup_elem(&faults, &page);
        if (e && e->time <= walk->now) {
            fault_time = e->time;
            fault_address = e->address;
            fault_tid = e->tid;
            bpf_map_delete_elem(&faults, &page);
        }
    }
    if ((c->flags & CAPTURE_SUMMARY) && slot >= 0) {
        u32 ptid = (u32)msg[3];
        summary_fault(slot, page, fault_time, walk->now, ptid ? ptid : fault_tid);
        return 0;
    }
    struct rec_msg *r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);
    if (!r) {
        count_lost();
        return 0;
    }
    r->h.type = REC_MSG;
    r->h.tid = walk->tid;
    r->h.time = walk->now;
    r->msg[0] = msg[0];
    r->msg[1] = msg[1];
    r->msg[2] = msg[2];
    r->msg[3] = msg[3];
    r->fault_time = fault_time;
    r->fault_address = fault_address;
    r->fault_tid = fault_tid;
    r->fd = walk->fd;
    bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_read")
int on_read_exit(struct sys_exit_ctx *ctx)
{
    if (ctx->ret < SIZEOF_UFFD_MSG && ctx->ret != -EAGAIN)
        return 0;
    struct config *c = traced();
    if (!c)
        return 0;
    s32 fd = (s32)syscall_arg(REG_DI);
    if (!bpf_map_lookup_elem(&uffds, &fd))
        return 0;
    if (ctx->ret == -EAGAIN) {
        count_read(READS_EMPTY);
        return 0;
    }
    count_read(READS_FULL);
    struct read_walk walk = {.c = c, .buf = syscall_arg(REG_SI), .now = bpf_ktime_get_ns(), .tid = current_tid(), .fd = fd};
    u64 n = (u64)ctx->ret / SIZEOF_UFFD_MSG;
    bpf_loop(n < MAX_MESSAGES_PER_READ ? n : MAX_MESSAGES_PER_READ, read_one, &walk, 0);
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_ioctl")
int on_ioctl_enter(struct sys_enter_ctx *ctx)
{
    u64 cmd = ctx->args[1];
    if (((cmd >> 8) & 0xff) != UFFD_API_TYPE)
        return 0;
    if (cmd == USERFAULTFD_IOC_NEW ? !adopting() : !traced())
        return 0;
    s32 fd = (s32)ctx->args[0];
    if (cmd != USERFAULTFD_IOC_NEW)
        learn_uffd(fd, UFFD_BY_IOCTL); /* a uffd received over a socket is learnt here */
    struct ioctl_call call = {.cmd = cmd, .arg = ctx->args[2], .enter = bpf_ktime_get_ns(), .fd = fd};
    u32 tid = current_tid();
    bpf_map_update_elem(&ioctls, &tid, &call, BPF_ANY);
    return 0;
}

struct resolve_walk {
    u64 first; /* page numbers */
    u64 now;
    u32 op;
    u32 found;
};

/*
 * CAPTURE_SUMMARY: the waiters on `page` are resolved by `op` at `now`; returns how many there were.
 * A global function, so the verifier checks it once on its own: inlined, it was checked again for
 * every state on_ioctl_exit reaches it with (a region slot, an op, a length each), and 6.18's
 * verifier gave up at its million instructions (E2BIG: "BPF program is too large").
 */
__attribute__((noinline)) int resolve_page(u64 page, u64 now, u32 op)
{
    struct pending *p = bpf_map_lookup_elem(&pendings, &page);
    if (!p)
        return 0;
    int found = 0;
    u32 s = p->slot;
    u32 count = p->count < MAX_WAITERS ? p->count : MAX_WAITERS;
    for (u32 j = 0; j < MAX_WAITERS; j++) {
        if (j >= count)
            break;
        struct waiter w = p->w[j];
        u64 service = now > w.read_time ? now - w.read_time : 0;
        hist_add(s, op, 2, service);
        counter_add(s, op, C_FAULTS, 1);
        struct blocked *b = bpf_map_lookup_elem(&threads, &w.tid);
        if (!b) {
            struct blocked fresh = {};
            bpf_map_update_elem(&threads, &w.tid, &fresh, BPF_NOEXIST);
            b = bpf_map_lookup_elem(&threads, &w.tid);
        }
        if (b) {
            __sync_fetch_and_add(&b->faults, 1);
            __sync_fetch_and_add(&b->read_to_resolve, service);
        }
        if (w.fault_time) {
            u64 latency = now > w.fault_time ? now - w.fault_time : 0;
            u64 queue = w.read_time > w.fault_time ? w.read_time - w.fault_time : 0;
            hist_add(s, op, 0, latency);
            hist_add(s, op, 1, queue);
            counter_add(s, op, C_FAULTS_TIMED, 1);
            if (b) {
                __sync_fetch_and_add(&b->faults_timed, 1);
                __sync_fetch_and_add(&b->fault_to_resolve, latency);
            }
        }
        found++;
    }
    bpf_map_delete_elem(&pendings, &page);
    return found;
}

/* CAPTURE_SUMMARY: page `first + i` of a resolving ioctl's range (a bpf_loop callback). */
static long resolve_one(u32 i, void *arg)
{
    struct resolve_walk *walk = arg;
    walk->found += resolve_page(walk->first + i, walk->now, walk->op);
    return 0;
}

/* CAPTURE_SUMMARY: the faults waiting on [start, start + length) are resolved by op at `now`. */
static __always_inline void summary_resolve(struct config *c, u32 op, u64 start, u64 length, s64 ret, u64 now)
{
    u32 shift = 12;
    int slot = region_of(c, start, &shift);
    if (slot < 0)
        return;
    counter_add(slot, op, C_CALLS, 1);
    if (ret < 0)
        counter_add(slot, op, C_ERRORS, 1);
    u64 end = start + (length ? length : 1);
    u64 first = start >> shift;
    u64 pages = ((end - 1) >> shift) - first + 1;
    struct resolve_walk walk = {.first = first, .now = now, .op = op};
    if (pages > MAX_PAGES_PER_RESOLVE) {
        counter_add(slot, op, C_UNLINKED, 1);
        pages = MAX_PAGES_PER_RESOLVE;
    }
    if (pages == 1)
        resolve_one(0, &walk); /* the common case: one page, no loop to set up */
    else
        bpf_loop(pages, resolve_one, &walk, 0);
    if (!walk.found) {
        counter_add(slot, op, C_RESOLVES, 1);
        counter_add(slot, op, C_RESOLVE_BYTES, length);
    }
}

SEC("tracepoint/syscalls/sys_exit_ioctl")
int on_ioctl_exit(struct sys_exit_ctx *ctx)
{
    u32 tid = current_tid();
    struct ioctl_call *call = bpf_map_lookup_elem(&ioctls, &tid);
    if (!call)
        return 0;
    struct config *c = conf();
    if (!c)
        return 0;
    u64 now = bpf_ktime_get_ns();
    u32 nr = call->cmd & 0xff;
    u32 size = (call->cmd >> 16) & 0x3fff;
    u64 arg[5] = {};
    if (size > sizeof(arg))
        size = sizeof(arg);
    if (call->cmd != USERFAULTFD_IOC_NEW && size > 0)
        bpf_probe_read_user(arg, size, (void *)call->arg);
    s64 ret = ctx->ret;
    u32 slot = 0;
    if (call->cmd == USERFAULTFD_IOC_NEW) {
        if (ret >= 0)
            learn_uffd((s32)ret, UFFD_BY_DEVICE);
        bpf_map_delete_elem(&ioctls, &tid);
        return 0;
    }
    if (nr == NR_REGISTER && ret == 0) {
        slot = __sync_fetch_and_add(&c->regions, 1);
        if (slot < MAX_REGIONS) {
            struct region r = {.start = arg[0], .end = arg[0] + arg[1], .shift = page_shift_at(c, arg[0]), .live = 1};
            bpf_map_update_elem(&regions, &slot, &r, BPF_ANY);
        }
    } else if (nr == NR_UNREGISTER && ret == 0) {
        u32 n = c->regions;
        for (u32 i = 0; i < MAX_REGIONS; i++) {
            if (i >= n)
                break;
            u32 k = i;
            struct region *r = bpf_map_lookup_elem(&regions, &k);
            if (r && r->start >= arg[0] && r->end <= arg[0] + arg[1])
                r->live = 0;
        }
    }
    int record = !(c->flags & CAPTURE_SUMMARY) || nr == NR_REGISTER || nr == NR_UNREGISTER || nr == NR_API;
    if (!record) {
        int protecting = nr == NR_WRITEPROTECT && (arg[2] & UFFDIO_WRITEPROTECT_MODE_WP);
        u32 shift = 12;
        if (nr >= NR_WAKE && nr <= NR_POISON && !protecting) {
            if (region_of(c, arg[0], &shift) < 0) {
                record = 1; /* a region user space has not told the program of yet: it links this one itself */
            } else {
                u64 length = nr == NR_COPY || nr == NR_MOVE ? arg[2] : arg[1];
                summary_resolve(c, nr, arg[0], length, ret, now);
            }
        }
    }
    if (!record) {
        bpf_map_delete_elem(&ioctls, &tid);
        return 0;
    }
    struct rec_ioctl *r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);
    if (!r) {
        count_lost();
        bpf_map_delete_elem(&ioctls, &tid);
        return 0;
    }
    r->h.type = REC_IOCTL;
    r->h.tid = tid;
    r->h.time = now;
    r->enter = call->enter;
    r->nr = nr;
    r->fd = call->fd;
    r->ret = ret;
    r->slot = slot;
    r->pad = 0;
    r->arg[0] = arg[0];
    r->arg[1] = arg[1];
    r->arg[2] = arg[2];
    r->arg[3] = arg[3];
    r->arg[4] = arg[4];
    bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
    bpf_map_delete_elem(&ioctls, &tid);
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_userfaultfd")
int on_userfaultfd_exit(struct sys_exit_ctx *ctx)
{
    if (ctx->ret < 0 || !adopting())
        return 0;
    learn_uffd((s32)ctx->ret, UFFD_BY_SYSCALL);
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int on_close_enter(struct sys_enter_ctx *ctx)
{
    if (!traced())
        return 0;
    s32 fd = (s32)ctx->args[0];
    bpf_map_delete_elem(&huge_fds, &fd);
    if (bpf_map_delete_elem(&uffds, &fd) == 0)
        emit_fd(REC_CLOSE, fd, 0);
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_memfd_create")
int on_memfd_exit(struct sys_exit_ctx *ctx)
{
    if (ctx->ret < 0 || !traced_or_family()) /* a descendant's too: its hugetlb memory, should it open a uffd */
        return 0;
    u32 flags = (u32)syscall_arg(REG_SI);
    s32 fd = (s32)ctx->ret;
    if (flags & MFD_HUGETLB) {
        u32 shift = (flags >> HUGE_SHIFT) & 0x3f;
        if (!shift)
            shift = 21; /* the default huge page size on x86-64 */
        bpf_map_update_elem(&huge_fds, &fd, &shift, BPF_ANY);
    }
    emit_fd(REC_MEMFD, fd, flags);
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int on_mmap_exit(struct sys_exit_ctx *ctx)
{
    u64 address = (u64)ctx->ret;
    if (ctx->ret <= 0 || address >= 0x800000000000ull)
        return 0;
    struct config *c = traced_or_family();
    if (!c)
        return 0;
    u64 length = syscall_arg(REG_SI);
    u64 flags = syscall_arg(REG_R10);
    s32 fd = (s32)syscall_arg(REG_R8);
    u32 shift = 0;
    if (flags & MAP_HUGETLB) {
        shift = (flags >> HUGE_SHIFT) & 0x3f;
        if (!shift)
            shift = 21;
    } else if (!(flags & MAP_ANONYMOUS)) {
        u32 *s = bpf_map_lookup_elem(&huge_fds, &fd);
        if (s)
            shift = *s;
    }
    if (shift)
        add_huge_area(c, address, length, shift);
    struct rec_mmap *r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);
    if (!r) {
        count_lost();
        return 0;
    }
    r->h.type = REC_MMAP;
    r->h.tid = current_tid();
    r->h.time = bpf_ktime_get_ns();
    r->address = address;
    r->length = length;
    r->flags = flags;
    r->fd = fd;
    r->prot = (u32)syscall_arg(REG_DX);
    bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
    return 0;
}

/* A uffd handed over a socket (Firecracker's handler gets its uffd this way). */
SEC("tracepoint/syscalls/sys_exit_recvmsg")
int on_recvmsg_exit(struct sys_exit_ctx *ctx)
{
    if (ctx->ret < 0 || !traced())
        return 0;
    u64 hdr = syscall_arg(REG_SI);
    u64 control = 0, controllen = 0;
    bpf_probe_read_user(&control, 8, (void *)(hdr + 32));
    bpf_probe_read_user(&controllen, 8, (void *)(hdr + 40));
    if (!control || controllen < 20)
        return 0;
    u64 cmsg[2];
    if (bpf_probe_read_user(cmsg, sizeof(cmsg), (void *)control))
        return 0;
    u64 len = cmsg[0];
    if ((u32)cmsg[1] != SOL_SOCKET || (u32)(cmsg[1] >> 32) != SCM_RIGHTS || len < 20)
        return 0;
    struct rec_fds *r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);
    if (!r) {
        count_lost();
        return 0;
    }
    u32 count = (len - 16) / 4;
    if (count > 8)
        count = 8;
    __builtin_memset(r->fds, 0xff, sizeof(r->fds));
    u32 bytes = count * 4; /* no further: the control buffer may end there, at the end of a page */
    if (bytes > sizeof(r->fds))
        bytes = sizeof(r->fds);
    bpf_probe_read_user(r->fds, bytes, (void *)(control + 16));
    /* Each received fd may be a uffd (the program cannot tell a file's kind): its reads are decoded
     * from now on, so that a handler reading at once misses nothing, and user space, which can tell,
     * drops the records of those that are not (UFFD_CANDIDATE). */
    u32 candidate = UFFD_CANDIDATE;
    for (u32 i = 0; i < 8; i++) {
        if (i >= count)
            break;
        s32 fd = r->fds[i];
        if (fd >= 0)
            bpf_map_update_elem(&uffds, &fd, &candidate, BPF_NOEXIST);
    }
    r->h.type = REC_FDS;
    r->h.tid = current_tid();
    r->h.time = bpf_ktime_get_ns();
    r->count = count;
    r->pad = 0;
    bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
    return 0;
}

/* CAPTURE_FOLLOW: a process started by the traced process or one of its descendants joins the family. */
SEC("tracepoint/sched/sched_process_fork")
int on_process_fork(void *ctx)
{
    struct config *c = conf();
    if (!c || (c->flags & (CAPTURE_FOLLOW | CAPTURE_SETTLED)) != CAPTURE_FOLLOW || !c->fork_child_pid)
        return 0;
    u32 parent = bpf_get_current_pid_tgid() >> 32;
    if (parent != c->tgid && !bpf_map_lookup_elem(&family, &parent))
        return 0;
    s32 child = 0; /* a new thread's tid too: harmless, a tid is no other process's tgid */
    bpf_probe_read_kernel(&child, sizeof(child), ctx + (c->fork_child_pid & 0xff));
    u32 one = 1, key = (u32)child;
    if (child > 0)
        bpf_map_update_elem(&family, &key, &one, BPF_ANY);
    return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int on_process_exit(struct process_exit_ctx *ctx)
{
    struct config *c = traced();
    if (!c || current_tid() != c->tgid)
        return 0;
    emit_fd(REC_EXIT, 0, 0);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
