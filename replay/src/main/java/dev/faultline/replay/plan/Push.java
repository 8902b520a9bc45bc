package dev.faultline.replay.plan;

import dev.faultline.core.uffd.ResolveIoctl;

/**
 * A RESOLVE row to re-issue: an ioctl no fault asked for (a prefetch, a background push), on a
 * region range of whole target pages, no earlier than {@code dueNanos} after the replay starts.
 */
public record Push(int region, ResolveIoctl op, long offset, long length, long dueNanos) {
}
