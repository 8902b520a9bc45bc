package dev.faultline.core.uffd;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Test helper: a thread that reads every message of a userfaultfd, records it and hands it to a
 * callback (which resolves faults). Stops when closed. If the callback throws, the pump closes the
 * userfaultfd so the faulting thread is released and the test reports the error rather than hangs.
 */
final class MessagePump implements AutoCloseable {
    final List<UffdMessage> messages = new CopyOnWriteArrayList<>();
    final List<Throwable> errors = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile boolean stop;

    MessagePump(Userfaultfd uffd, Consumer<UffdMessage> onMessage) {
        thread = new Thread(() -> {
            try (Arena arena = Arena.ofConfined()) {
                UffdMessageBuffer buf = new UffdMessageBuffer(arena, 16);
                while (!stop) {
                    if (!uffd.awaitReadable(50)) {
                        continue;
                    }
                    int n = uffd.read(buf);
                    for (int i = 0; i < n; i++) {
                        UffdMessage m = buf.message(i);
                        messages.add(m);
                        onMessage.accept(m);
                    }
                }
            } catch (Throwable t) {
                errors.add(t);
                uffd.close(); // releases any thread stuck in a fault, so the test fails instead of hanging
            }
        }, "test-uffd-pump");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() {
        stop = true;
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!errors.isEmpty()) {
            throw new AssertionError("handler thread failed", errors.getFirst());
        }
    }
}
