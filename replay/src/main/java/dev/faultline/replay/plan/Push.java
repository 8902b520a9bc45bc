package dev.faultline.replay.plan;

import dev.faultline.core.uffd.ResolveIoctl;

/**
 * A RESOLVE row to re-issue: an ioctl no fault asked for (a prefetch, a background push, a WAKE of
 * pages placed with DONTWAKE), on a region range of whole target pages, no earlier than
 * {@code dueNanos} after the replay starts, and not before faulting thread {@code afterThread} has
 * begun its {@code afterTouches}-th touch (the fault that began last before the push was recorded)
 * and {@code afterNanos} more have passed: the push keeps its recorded distance from that fault, as
 * a migration's background stream trails the faults it follows.
 *
 * <p>A push that placed a page whose fault had begun but not yet been read (the stream overtook
 * the fault) also waits until that fault has been taken in the replay: its thread may have begun
 * the touch and not yet reached the page, and a push landing first would leave it no fault.
 *
 * @param mode        the recorded DONTWAKE bit of the op's mode, else 0
 * @param afterThread the faulting thread to wait for, -1 for none
 * @param afterNanos  how long after that fault began the push was recorded (scaled by the pace)
 * @param takenOffset the region offset of the page of a fault that began before the push and that it covers, whose
 *                    fault must have been read (or its touch be over) before the push goes; -1 for none
 */
public record Push(int region, ResolveIoctl op, long offset, long length, int mode, long dueNanos, int afterThread,
                   int afterTouches, long afterNanos, long takenOffset) {
}
