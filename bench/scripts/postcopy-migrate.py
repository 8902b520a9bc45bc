"""One QEMU postcopy live migration on loopback, optionally captured by Faultline, for the
capture-cost benchmark: prints one JSON line with QEMU's own figures (the source's total-time,
the destination's postcopy-blocktime) and, when captured, what the capture wrote.

  postcopy-migrate.py DIR MIB [none|events|summary] [KEEP]

With KEEP (a path), the capture is kept there instead of deleted.

The guest is the QEMU tests' own (a boot sector that writes every page of its RAM over and
over), read from PostcopyMigration.java so that its bytes live in one place. The destination is
attached to with `faultline record --pid --qmp` (a QMP socket of its own) while it waits, as an
operator would, and the migration starts once the capture says its probes are attached. Standard library only.
"""
import json
import os
import re
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUEST_SOURCE = os.path.join(ROOT, "cli/src/test/java/dev/faultline/cli/PostcopyMigration.java")


def guest_image(mib):
    src = open(GUEST_SOURCE).read()
    code = re.search(r"int\[\] code = \{(.*?)\};", src, re.S).group(1)
    image = bytearray(int(x, 16) for x in re.findall(r"0x[0-9a-f]{2}", code))
    image += bytes((1 << 20) - len(image))
    image[0x34:0x38] = (mib << 20).to_bytes(4, "little")
    image[510:512] = b"\x55\xaa"
    return bytes(image)


class Qmp:
    def __init__(self, path, proc):
        deadline = time.time() + 20
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    sys.exit("postcopy-migrate.py: QEMU did not come up (%s)" % path)
                time.sleep(0.02)
        self.f = self.s.makefile("rw")
        self.f.readline()
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise RuntimeError(name + ": " + r["error"]["desc"])


def main(work, mib, mode, keep=None):
    disk = os.path.join(work, "guest.img")
    open(disk, "wb").write(guest_image(mib))
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    port_number = port.getsockname()[1]
    port.close()
    common = ["qemu-system-x86_64", "-machine", "pc,accel=tcg", "-m", "%dM" % mib, "-nodefaults", "-display", "none",
              "-no-user-config", "-drive", "file=%s,format=raw,if=ide,file.locking=off" % disk,
              "-object", "memory-backend-memfd,id=ram0,size=%dM,share=on" % mib, "-machine", "memory-backend=ram0"]
    for f in ("src.qmp", "dst.qmp", "dst-faultline.qmp"):
        if os.path.exists(os.path.join(work, f)):
            os.unlink(os.path.join(work, f))
    dst = subprocess.Popen(common + ["-qmp", "unix:%s/dst.qmp,server=on,wait=off" % work,
                                     "-qmp", "unix:%s/dst-faultline.qmp,server=on,wait=off" % work,
                                     "-incoming", "tcp:127.0.0.1:%d" % port_number], stderr=subprocess.DEVNULL)
    src = subprocess.Popen(common + ["-qmp", "unix:%s/src.qmp,server=on,wait=off" % work], stderr=subprocess.DEVNULL)
    qd = Qmp(os.path.join(work, "dst.qmp"), dst)
    qs = Qmp(os.path.join(work, "src.qmp"), src)
    caps = [{"capability": "postcopy-ram", "state": True}]
    qs.cmd("migrate-set-capabilities", capabilities=caps)
    qs.cmd("migrate-set-parameters", **{"downtime-limit": 1})
    qd.cmd("migrate-set-capabilities", capabilities=caps + [{"capability": "postcopy-blocktime", "state": True}])
    capture = None
    trace = os.path.join(work, "capture.arrow")
    if mode != "none":
        capture = subprocess.Popen([os.path.join(ROOT, "faultline"), "record", "--pid", str(dst.pid), "--detail", mode,
                                    "--qmp", os.path.join(work, "dst-faultline.qmp"), "--json", "-o", trace],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for line in capture.stderr:
            if "probes attached" in line:
                break
        else:
            sys.exit("postcopy-migrate.py: the capture did not attach")
    time.sleep(0.5)
    qs.cmd("migrate", uri="tcp:127.0.0.1:%d" % port_number)
    time.sleep(0.3)
    qs.cmd("migrate-start-postcopy")
    while True:
        s = qs.cmd("query-migrate")
        if s.get("status") in ("completed", "failed"):
            break
        time.sleep(0.02)
    while True:
        d = qd.cmd("query-migrate")
        if d.get("status") == "completed":
            break
        time.sleep(0.02)
    for q in (qs, qd):
        try:
            q.cmd("quit")
        except Exception:
            pass
    src.wait()
    dst.wait()
    out = {"mode": mode, "status": s.get("status"), "total_ms": s.get("total-time"),
           "requests": s.get("ram", {}).get("postcopy-requests"), "blocktime_ms": d.get("postcopy-blocktime")}
    if capture:
        summary, _ = capture.communicate(timeout=60)
        j = json.loads(summary.strip().splitlines()[-1])
        out.update(captured_faults=j.get("faults"), lost=j.get("lost_events"))
        if keep:
            os.replace(trace, keep)
        elif os.path.exists(trace):
            os.unlink(trace)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "none", sys.argv[4] if len(sys.argv) > 4 else None)
