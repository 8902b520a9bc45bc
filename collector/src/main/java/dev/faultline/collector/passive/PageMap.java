package dev.faultline.collector.passive;

import java.util.Arrays;

/**
 * A map from page address to an object, open-addressed on primitive keys so that the capture's
 * linking loop allocates nothing per fault (a HashMap would box every key).
 *
 * <p>Invariants: key 0 is never stored (no page is mapped at address 0); the table is a power
 * of two at most half full; deletion shifts entries back, so there are no tombstones.
 */
final class PageMap<V> {
    private long[] keys = new long[1024];
    private Object[] values = new Object[1024];
    private int size;

    int size() {
        return size;
    }

    @SuppressWarnings("unchecked")
    V get(long key) {
        int mask = keys.length - 1;
        for (int i = slot(key, mask); keys[i] != 0; i = (i + 1) & mask) {
            if (keys[i] == key) {
                return (V) values[i];
            }
        }
        return null;
    }

    void put(long key, V value) {
        if (key == 0) {
            throw new IllegalArgumentException("page 0");
        }
        int mask = keys.length - 1;
        int i = slot(key, mask);
        while (keys[i] != 0 && keys[i] != key) {
            i = (i + 1) & mask;
        }
        if (keys[i] == 0) {
            keys[i] = key;
            if (++size * 2 > keys.length) {
                values[i] = value;
                grow();
                return;
            }
        }
        values[i] = value;
    }

    /** Removes {@code key}; returns what it mapped to, or null. */
    @SuppressWarnings("unchecked")
    V remove(long key) {
        int mask = keys.length - 1;
        int i = slot(key, mask);
        while (keys[i] != 0 && keys[i] != key) {
            i = (i + 1) & mask;
        }
        if (keys[i] == 0) {
            return null;
        }
        V old = (V) values[i];
        size--;
        // shift back every later entry of the probe run that may move into the gap
        int gap = i;
        for (int j = (i + 1) & mask; keys[j] != 0; j = (j + 1) & mask) {
            int home = slot(keys[j], mask);
            if (((j - home) & mask) >= ((j - gap) & mask)) {
                keys[gap] = keys[j];
                values[gap] = values[j];
                gap = j;
            }
        }
        keys[gap] = 0;
        values[gap] = null;
        return old;
    }

    /** Some key in [lo, hi) that is a multiple of {@code step} from lo, or 0: by lookups or a scan, whichever is fewer steps. */
    long anyIn(long lo, long hi, long step) {
        long pages = (hi - lo) / step;
        if (pages <= size) {
            for (long p = lo; p < hi; p += step) {
                if (get(p) != null) {
                    return p;
                }
            }
            return 0;
        }
        for (long k : keys) {
            if (k != 0 && Long.compareUnsigned(k, lo) >= 0 && Long.compareUnsigned(k, hi) < 0) {
                return k;
            }
        }
        return 0;
    }

    /** The lowest key in [from, hi) that is a multiple of {@code step} from {@code from}, or 0; like {@link #anyIn}, by lookups or a scan. */
    long nextIn(long from, long hi, long step) {
        long pages = (hi - from) / step;
        if (pages <= size) {
            for (long p = from; Long.compareUnsigned(p, hi) < 0; p += step) {
                if (get(p) != null) {
                    return p;
                }
            }
            return 0;
        }
        long best = 0;
        for (long k : keys) {
            if (k != 0 && Long.compareUnsigned(k, from) >= 0 && Long.compareUnsigned(k, hi) < 0 && (k - from) % step == 0
                    && (best == 0 || Long.compareUnsigned(k, best) < 0)) {
                best = k;
            }
        }
        return best;
    }

    void clear() {
        Arrays.fill(keys, 0);
        Arrays.fill(values, null);
        size = 0;
    }

    private void grow() {
        long[] oldKeys = keys;
        Object[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new Object[oldKeys.length * 2];
        int mask = keys.length - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldKeys[j] != 0) {
                int i = slot(oldKeys[j], mask);
                while (keys[i] != 0) {
                    i = (i + 1) & mask;
                }
                keys[i] = oldKeys[j];
                values[i] = oldValues[j];
            }
        }
    }

    private static int slot(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 32) & mask;
    }
}
