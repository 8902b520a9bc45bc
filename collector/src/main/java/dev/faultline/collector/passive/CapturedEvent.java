package dev.faultline.collector.passive;

/**
 * One line of {@link BpftraceScript}'s output, parsed: what was seen, by which thread, when, and
 * up to {@link #MAX_WORDS} numbers. Mutable and reused (a pool in {@link EventOrder}), so the
 * capture's reading loop allocates nothing per line.
 *
 * <p>Invariant after a successful {@link #parse}: {@link #type} is one of the letters
 * {@code BUCMITDP}, {@link #time} is the time the event is ordered by (an ioctl's exit), and
 * {@link #words} holds the line's numbers after the time(s), {@link #count} of them.
 */
public final class CapturedEvent {
    /** Numbers a line may carry after its times. */
    public static final int MAX_WORDS = 8;

    /** B, U, C, M, I, T, D or P (see {@link BpftraceScript}). */
    public byte type;
    public int tid;
    /** The ordering time: the event's own, or an ioctl's exit. */
    public long time;
    /** An ioctl's entry (I lines only). */
    public long enter;
    public final long[] words = new long[MAX_WORDS];
    public int count;
    private final long[] all = new long[MAX_WORDS + 4];

    /**
     * Parses {@code line[0, length)}.
     *
     * @return false for a line that is not an event (bpftrace's own messages)
     */
    public boolean parse(byte[] line, int length) {
        if (length < 3 || line[1] != ' ') {
            return false;
        }
        byte t = line[0];
        if (t != 'B' && t != 'U' && t != 'C' && t != 'M' && t != 'I' && t != 'T' && t != 'D' && t != 'P') {
            return false;
        }
        type = t;
        int n = 0;
        int i = 2;
        while (i < length && n < all.length) {
            boolean negative = false;
            if (line[i] == '-') {
                negative = true;
                i++;
            }
            long v = 0;
            int digits = 0;
            while (i < length && line[i] >= '0' && line[i] <= '9') {
                v = v * 10 + (line[i] - '0');
                i++;
                digits++;
            }
            if (digits == 0) {
                return false;
            }
            all[n++] = negative ? -v : v;
            while (i < length && line[i] == ' ') {
                i++;
            }
        }
        if (t == 'B') {
            tid = 0;
            time = all[0];
            count = 0;
            return n == 1;
        }
        if (n < 2) {
            return false;
        }
        tid = (int) all[0];
        int first;
        if (t == 'I') {
            if (n < 3) {
                return false;
            }
            enter = all[1];
            time = all[2];
            first = 3;
        } else {
            enter = all[1];
            time = all[1];
            first = 2;
        }
        count = Math.min(n - first, MAX_WORDS);
        System.arraycopy(all, first, words, 0, count);
        return true;
    }

    /** Copies {@code other} into this. */
    public void copyFrom(CapturedEvent other) {
        type = other.type;
        tid = other.tid;
        time = other.time;
        enter = other.enter;
        count = other.count;
        System.arraycopy(other.words, 0, words, 0, count);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder().append((char) type).append(' ').append(tid).append(' ');
        if (type == 'I') {
            b.append(enter).append(' ');
        }
        b.append(time);
        for (int i = 0; i < count; i++) {
            b.append(' ').append(words[i]);
        }
        return b.toString();
    }
}
