"""A userfaultfd handler in Python (standard library and ctypes only), for the passive capture
tests: a third-party handler that gets its uffd in the two ways the C floor does not.

  handler.py self PAGES           opens /dev/userfaultfd (USERFAULTFD_IOC_NEW), registers PAGES
                                  of its own memory and serves the faults a thread of its own takes
  handler.py serve SOCKET PAGES   waits on a unix socket for a uffd (SCM_RIGHTS) from the 'vmm'
                                  role, then serves PAGES faults on it (Firecracker's shape)
  handler.py vmm SOCKET PAGES     opens a uffd, registers PAGES of its memory, sends the uffd to
                                  the handler and takes the faults (in write(2): a kernel access,
                                  so the faulting thread holds no Python lock while it waits)

Each role prints one line when it is ready and exits when its PAGES faults are done. The uffd
ABI numbers are those of include/uapi/linux/userfaultfd.h (x86-64).
"""
import ctypes
import mmap
import os
import socket
import struct
import sys
import threading
import time

libc = ctypes.CDLL(None, use_errno=True)
libc.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
PAGE = 4096
USERFAULTFD_IOC_NEW = 0xAA00
UFFDIO_API = 0xC018AA3F
UFFDIO_REGISTER = 0xC020AA00
UFFDIO_COPY = 0xC028AA03
UFFD_API = 0xAA
UFFD_EVENT_PAGEFAULT = 0x12


def check(rc, what):
    if rc < 0:
        e = ctypes.get_errno()
        sys.exit("handler.py: %s: %s" % (what, os.strerror(e)))
    return rc


def open_uffd():
    dev = os.open("/dev/userfaultfd", os.O_RDWR | os.O_CLOEXEC)
    uffd = check(libc.ioctl(dev, USERFAULTFD_IOC_NEW, ctypes.c_void_p(os.O_CLOEXEC)), "USERFAULTFD_IOC_NEW")
    os.close(dev)
    api = ctypes.create_string_buffer(struct.pack("QQQ", UFFD_API, 0, 0), 24)
    check(libc.ioctl(uffd, UFFDIO_API, api), "UFFDIO_API")
    return uffd


def region(uffd, pages):
    addr = libc.mmap(None, pages * PAGE, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
    reg = ctypes.create_string_buffer(struct.pack("QQQQ", addr, pages * PAGE, 1, 0), 32)  # MODE_MISSING
    check(libc.ioctl(uffd, UFFDIO_REGISTER, reg), "UFFDIO_REGISTER")
    return addr


def toucher(addr, pages):
    """Takes each page's fault in the kernel: write(2) reads from the registered page."""
    r, w = os.pipe()
    for p in range(pages):
        n = libc.write(w, ctypes.c_void_p(addr + p * PAGE), 1)
        if n != 1:
            sys.exit("handler.py: write from page %d: %s" % (p, os.strerror(ctypes.get_errno())))
        os.read(r, 1)


def serve(uffd, pages):
    src = ctypes.create_string_buffer(b"\x5a" * PAGE, PAGE)
    copy = ctypes.create_string_buffer(40)
    served = 0
    while served < pages:
        msg = os.read(uffd, 32)
        if msg[0] != UFFD_EVENT_PAGEFAULT:
            continue
        address = struct.unpack_from("Q", msg, 16)[0] & ~(PAGE - 1)
        struct.pack_into("QQQQq", copy, 0, address, ctypes.addressof(src), PAGE, 0, 0)
        check(libc.ioctl(uffd, UFFDIO_COPY, copy), "UFFDIO_COPY")
        served += 1


def main(role, *args):
    if role == "self":
        pages = int(args[0])
        print("ready", flush=True)
        time.sleep(1.5)  # the capture attaches meanwhile, before there is any uffd
        uffd = open_uffd()
        addr = region(uffd, pages)
        t = threading.Thread(target=toucher, args=(addr, pages))
        t.start()
        serve(uffd, pages)
        t.join()
    elif role == "serve":
        path, pages = args[0], int(args[1])
        s = socket.socket(socket.AF_UNIX)
        s.bind(path)
        s.listen(1)
        print("ready", flush=True)
        conn, _ = s.accept()
        _, fds, _, _ = socket.recv_fds(conn, 16, 1)
        serve(fds[0], pages)
        conn.sendall(b"done")
    elif role == "vmm":
        path, pages = args[0], int(args[1])
        uffd = open_uffd()
        addr = region(uffd, pages)
        c = socket.socket(socket.AF_UNIX)
        c.connect(path)
        socket.send_fds(c, [b"uffd"], [uffd])
        print("ready", flush=True)
        toucher(addr, pages)
        c.recv(4)
        time.sleep(1)  # a VMM outlives its page server's work: a capture looks its regions up meanwhile
    else:
        sys.exit("handler.py: unknown role " + role)


if __name__ == "__main__":
    main(*sys.argv[1:])
