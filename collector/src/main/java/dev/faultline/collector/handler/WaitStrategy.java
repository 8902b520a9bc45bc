package dev.faultline.collector.handler;

import java.util.Locale;

/**
 * How a handler thread waits for the next userfaultfd message.
 *
 * <p>{@link #SPIN} re-reads the non-blocking fd in a loop: lowest latency, one core busy per
 * handler thread. {@link #POLL} sleeps in poll(2) until a message arrives: no CPU while idle, but
 * each fault pays a wake-up of the handler thread (several-fold the round trip; see the README).
 */
public enum WaitStrategy {
    SPIN,
    POLL;

    /** Lower-case name, as options and traces spell it. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
