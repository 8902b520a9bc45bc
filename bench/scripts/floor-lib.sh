# Shared by the scripts that measure Faultline against the C floor (../shared/reference/uffd_floor.c).
# Source it after setting root; it sets work (a temp dir removed on exit) and builds $work/uffd_floor.

floor_src=${FAULTLINE_FLOOR_SRC:-$root/../shared/reference/uffd_floor.c}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -f "$floor_src" ] || { echo "$(basename "$0"): no $floor_src" >&2; exit 1; }
gcc -O2 -pthread -o "$work/uffd_floor" "$floor_src"
"$root/faultline" --version >/dev/null   # builds the jar first if needed

# Idle CPUs: both sides of every comparison run with the same idle states. By default (and as
# replay does by itself: --cpu-idle poll) the script holds the kernel's CPU latency request at 0
# (/dev/cpu_dma_latency, dropped when the script exits), so that a CPU whose faulting thread
# blocked polls instead of halting and no fault's wake pays the exit from halt (a VM exit here,
# which made faults 5x slower). FAULTLINE_CPU_IDLE=system leaves idle states to the system.
floor_cpu_idle=${FAULTLINE_CPU_IDLE:-poll}
if [ "$floor_cpu_idle" = poll ]; then
    if [ -w /dev/cpu_dma_latency ]; then
        exec 9>/dev/cpu_dma_latency
        echo 0 >&9
    else
        echo "$(basename "$0"): cannot hold idle CPUs polling (/dev/cpu_dma_latency not writable); measuring with FAULTLINE_CPU_IDLE=system" >&2
        floor_cpu_idle=system
    fi
fi

# floor_reserve_2m N: as root, makes sure N 2M huge pages are free (the hugetlb cases need them),
# and gives back on exit what it added: the machine is shared.
floor_reserve_2m() {
    local pool=/sys/kernel/mm/hugepages/hugepages-2048kB need=$1
    if [ "$(id -u)" = 0 ] && [ -d "$pool" ] && [ "$(cat $pool/free_hugepages)" -lt "$need" ]; then
        floor_hugepages_before=$(cat $pool/nr_hugepages)
        echo $(( floor_hugepages_before + need - $(cat $pool/free_hugepages) )) > $pool/nr_hugepages
        trap 'rm -rf "$work"; echo "$floor_hugepages_before" > '"$pool"'/nr_hugepages' EXIT
    fi
}

# floor_median FILE KEY: the median of KEY over the JSON lines of FILE. KEY is a dotted path
# (runs.0.p50_ns); a * takes, within one line, the median over a list's items that have the rest
# (runs.*.p50_ns: the measured runs of one replay).
floor_median() {
    python3 "$root/bench/scripts/floor-stats.py" median "$@"
}

# floor_ratio NUM_FILE NUM_KEY DEN_FILE DEN_KEY: the median over rounds of each round's NUM/DEN
# (line i of one file against line i of the other), and its quartiles: "median q1 q3". Pairing a
# run with the one next to it cancels the machine's drift, which moved whole runs by 20% here.
floor_ratio() {
    python3 "$root/bench/scripts/floor-stats.py" ratio "$@"
}

# floor_merge FILE: one JSON line holding the median of every numeric key over FILE's lines (a
# round of several floor runs, as one).
floor_merge() {
    python3 "$root/bench/scripts/floor-stats.py" merge "$@"
}

# floor_warm_memory MIB: writes MIB MiB of anonymous memory once and frees it (at most half of
# MemAvailable), so that the next side of a round allocates pages this guest's host already backs.
# In a lazily backed guest the side with the bigger process (the JVM) otherwise runs short of them
# near the end of its runs and pays host faults the other side does not; README.md, "Benchmark:
# replay against the C floor", has the measurements. Both sides get the same warm-up.
floor_warm_memory() {
    local avail
    avail=$(awk '/^MemAvailable:/ { print int($2 / 2048) }' /proc/meminfo)
    python3 -c 'import sys; n = int(sys.argv[1]) << 20; b = bytearray(n); b[::4096] = b"\1" * len(range(0, n, 4096))' \
        "$(( $1 < avail ? $1 : avail ))"
}
