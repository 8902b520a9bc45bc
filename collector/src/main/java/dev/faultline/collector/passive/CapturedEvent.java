package dev.faultline.collector.passive;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One record of the capture program, decoded: what was seen ({@link CaptureRecord} type), by
 * which thread, when, and up to {@link #MAX_WORDS} numbers. Mutable and reused (a pool in
 * {@link EventOrder}), so the capture's reading loop allocates nothing per record.
 *
 * <p>Words by type — MSG: the event code, the uffd_msg's 64-bit words at bytes 8, 16 and 24, the
 * page_fault_user entry's time, thread and address (0 if none), the fd; IOCTL: the ioctl nr, its
 * return, the argument struct's five 64-bit words after the call, the region slot (REGISTER);
 * UFFD, CLOSE, MEMFD: the fd and how / flags; FOLLOW: the pid now traced and the one before;
 * MMAP: address, length, flags, fd, prot; FDS: the count and up to six descriptors.
 *
 * <p>Invariant after {@link #decode}: {@link #time} is the time the event is ordered by (an
 * ioctl's exit) and {@link #enter} an ioctl's entry (else equal to time).
 */
public final class CapturedEvent {
    /** Numbers a record may carry after its times. */
    public static final int MAX_WORDS = 8;

    /** A {@link CaptureRecord} type. */
    public int type;
    public int tid;
    /** The ordering time: the event's own, or an ioctl's exit. */
    public long time;
    /** An ioctl's entry (IOCTL only; else {@link #time}). */
    public long enter;
    public final long[] words = new long[MAX_WORDS];
    public int count;

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    /**
     * Decodes the record at {@code data[at, at + length)}.
     *
     * @return false for a record of an unknown type or the wrong size for its type
     */
    public boolean decode(MemorySegment data, long at, int length) {
        if (length < CaptureRecord.HEAD_BYTES) {
            return false;
        }
        int t = data.get(INT, at);
        if (CaptureRecord.bytes(t) != length) {
            return false;
        }
        type = t;
        tid = data.get(INT, at + 4);
        time = data.get(LONG, at + 8);
        enter = time;
        long b = at + CaptureRecord.HEAD_BYTES;
        switch (t) {
            case CaptureRecord.MSG -> {
                long w0 = data.get(LONG, b);
                words[0] = w0 & 0xff;
                words[1] = data.get(LONG, b + 8);
                words[2] = data.get(LONG, b + 16);
                words[3] = data.get(LONG, b + 24);
                words[4] = data.get(LONG, b + 32);                      // fault time
                words[5] = Integer.toUnsignedLong(data.get(INT, b + 48)); // fault tid
                words[6] = data.get(LONG, b + 40);                      // fault address
                words[7] = data.get(INT, b + 52);                       // fd
                count = 8;
            }
            case CaptureRecord.IOCTL -> {
                enter = data.get(LONG, b);
                words[0] = data.get(INT, b + 8);   // nr
                words[1] = data.get(LONG, b + 16); // ret
                for (int i = 0; i < 5; i++) {
                    words[2 + i] = data.get(LONG, b + 32 + 8L * i);
                }
                words[7] = data.get(INT, b + 24);  // slot
                count = 8;
            }
            case CaptureRecord.UFFD, CaptureRecord.CLOSE, CaptureRecord.MEMFD, CaptureRecord.EXIT, CaptureRecord.FOLLOW -> {
                words[0] = data.get(INT, b);
                words[1] = Integer.toUnsignedLong(data.get(INT, b + 4));
                count = 2;
            }
            case CaptureRecord.MMAP -> {
                words[0] = data.get(LONG, b);
                words[1] = data.get(LONG, b + 8);
                words[2] = data.get(LONG, b + 16);
                words[3] = data.get(INT, b + 24);
                words[4] = Integer.toUnsignedLong(data.get(INT, b + 28));
                count = 5;
            }
            case CaptureRecord.FDS -> {
                int n = Math.min(data.get(INT, b), MAX_WORDS - 2);
                words[0] = n;
                for (int i = 0; i < n; i++) {
                    words[1 + i] = data.get(INT, b + 8 + 4L * i);
                }
                count = 1 + n;
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    /** Sets this event by hand (tests, and events made up by the capture itself). */
    public CapturedEvent set(int type, int tid, long enter, long time, long... values) {
        this.type = type;
        this.tid = tid;
        this.enter = enter;
        this.time = time;
        count = Math.min(values.length, MAX_WORDS);
        System.arraycopy(values, 0, words, 0, count);
        return this;
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
        StringBuilder b = new StringBuilder().append("type ").append(type).append(" tid ").append(tid).append(' ');
        if (type == CaptureRecord.IOCTL) {
            b.append(enter).append("..");
        }
        b.append(time);
        for (int i = 0; i < count; i++) {
            b.append(' ').append(words[i]);
        }
        return b.toString();
    }
}
