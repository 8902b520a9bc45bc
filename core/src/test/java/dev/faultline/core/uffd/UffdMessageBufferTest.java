package dev.faultline.core.uffd;

import dev.faultline.core.abi.UffdAbi;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Raw uffd_msg bytes loaded from elsewhere decode through the same accessors as a read(2). */
class UffdMessageBufferTest {
    @Test
    void loadsAndDecodesRawMessages() {
        ByteBuffer raw = ByteBuffer.allocate(2 * UffdAbi.SIZEOF_UFFD_MSG).order(ByteOrder.nativeOrder());
        raw.put(UffdAbi.UFFD_MSG_EVENT, (byte) UffdEvent.PAGEFAULT.code());
        raw.putLong(UffdAbi.UFFD_MSG_PAGEFAULT_FLAGS, UffdAbi.UFFD_PAGEFAULT_FLAG_WRITE);
        raw.putLong(UffdAbi.UFFD_MSG_PAGEFAULT_ADDRESS, 0x7f0000001000L);
        raw.putInt(UffdAbi.UFFD_MSG_PAGEFAULT_PTID, 4242);
        int second = UffdAbi.SIZEOF_UFFD_MSG;
        raw.put(second + UffdAbi.UFFD_MSG_EVENT, (byte) UffdEvent.REMOVE.code());
        raw.putLong(second + UffdAbi.UFFD_MSG_REMOVE_START, 0x7f0000000000L);
        raw.putLong(second + UffdAbi.UFFD_MSG_REMOVE_END, 0x7f0000200000L);
        try (Arena arena = Arena.ofConfined()) {
            UffdMessageBuffer b = new UffdMessageBuffer(arena, 4);
            b.load(raw.array(), 2);
            assertEquals(2, b.count());
            assertEquals(UffdEvent.PAGEFAULT, b.event(0));
            assertEquals(0x7f0000001000L, b.address(0));
            assertEquals(UffdAbi.UFFD_PAGEFAULT_FLAG_WRITE, b.flags(0));
            assertEquals(4242, b.tid(0));
            assertEquals(UffdEvent.REMOVE, b.event(1));
            assertEquals(0x200000L, b.rangeEnd(1) - b.rangeStart(1));
            assertThrows(IllegalArgumentException.class, () -> b.load(raw.array(), 3), "more messages than bytes");
            assertThrows(IllegalArgumentException.class, () -> b.load(new byte[5 * 32], 5), "more than the capacity");
        }
    }
}
