"""One Dynamixel control cycle (SYNC_READ Present_Position + SYNC_WRITE Goal_Position) on the emulator.

Two buses: the Koch follower's 6 servos at 1 Mbaud, and 16 servos at 4 Mbaud (a LEAP-hand-sized bus). Each is
timed for our DynamixelBus (SYNC_READ, and FAST_SYNC_READ: one reply packet for all servos) and the vendor SDK
(dynamixel-sdk GroupSyncRead.txRxPacket / fastSyncRead + GroupSyncWrite.txPacket) on the same emulated bus served
with wire timing from a separate process (no GIL shared with the bus under test), against the wire limit: the
bytes one cycle puts on the wire at the baud rate, 10 bits per byte, zero return delay. Run:
``python benchmarks/dxl_bus_cycle.py [--cycles 2000] [--bus "16 servos @ 4 Mbaud"] [--no-vendor]``; the last lines
are the ratio of each cycle to its wire limit, with the machine's load average at the start and the end.
"""

from __future__ import annotations

import argparse
import os

from bus_cycle import time_cycles  # the same timing as the Feetech benchmark (benchmarks/ is on sys.path when run)

from twinarm.hardware.dynamixel import protocol as proto
from twinarm.hardware.dynamixel.bus import DynamixelBus
from twinarm.hardware.dynamixel.tables import XL330_M288
from twinarm.hardware.emulator import EmulatorConfig, EmulatorProcess, ServoConfig

POS, GOAL = XL330_M288.PRESENT_POSITION, XL330_M288.GOAL_POSITION
BUSES = {"6 servos @ 1 Mbaud": (list(range(1, 7)), 1_000_000), "16 servos @ 4 Mbaud": (list(range(16)), 4_000_000)}
GOAL_RATIO = 1.5  # issue 16: a bus cycle within 1.5x its wire time


def wire_time_s(ids: list[int], baud: int, fast: bool = False) -> float:
    """Wire time of one cycle [s]: the read request, its reply (one status packet per servo, or one packet for all
    with FAST_SYNC_READ), and the SYNC_WRITE; 10 bits per byte."""
    n = len(proto.sync_read_packet(POS.address, POS.size, ids))
    n += 8 + (POS.size + 4) * len(ids) if fast else len(ids) * (proto.STATUS_OVERHEAD + POS.size)
    n += len(proto.sync_write_packet(GOAL.address, GOAL.size, [(i, b"\x00\x08\x00\x00") for i in ids]))
    return n * 10 / baud


def ours(port: str, ids: list[int], baud: int, n: int, fast: bool) -> dict[str, float]:
    goals = [2048] * len(ids)
    with DynamixelBus(port, baud, XL330_M288, timeout_s=0.1) as bus:  # generous: a loaded host can stall 20 ms
        read = bus.fast_sync_read if fast else bus.sync_read

        def cycle() -> None:
            read(POS, ids)
            bus.sync_write(GOAL, ids, goals)

        result = time_cycles(cycle, n)
    return {**result, "retries": bus.stats.retries}


def vendor(port: str, ids: list[int], baud: int, n: int, fast: bool) -> dict[str, float] | None:
    try:
        import dynamixel_sdk as dxl
    except ImportError:
        return None
    handler = dxl.PortHandler(port)
    handler.openPort()
    handler.setBaudRate(baud)
    packets = dxl.PacketHandler(2.0)
    reader = dxl.GroupSyncRead(handler, packets, POS.address, POS.size)
    writer = dxl.GroupSyncWrite(handler, packets, GOAL.address, GOAL.size)
    for i in ids:
        reader.addParam(i)
        writer.addParam(i, [0x00, 0x08, 0x00, 0x00])
    failures = [0]
    read = reader.fastSyncRead if fast else reader.txRxPacket

    def cycle() -> None:
        if read() != dxl.COMM_SUCCESS:
            failures[0] += 1
        [reader.getData(i, POS.address, POS.size) for i in ids]
        for i in ids:
            writer.changeParam(i, [0x00, 0x08, 0x00, 0x00])
        writer.txPacket()

    try:
        return {**time_cycles(cycle, n), "failures": failures[0]}
    finally:
        handler.closePort()


def _fmt(r: dict[str, float]) -> str:
    return f"median {r['median'] * 1e6:7.0f} us   p99 {r['p99'] * 1e6:7.0f} us   cpu {r['cpu'] * 1e6:6.0f} us/cycle"


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=2000)
    parser.add_argument("--bus", choices=sorted(BUSES), action="append", help="only this bus (repeatable)")
    parser.add_argument("--no-vendor", action="store_true", help="skip the dynamixel-sdk runs")
    args = parser.parse_args()
    print(f"start: {_load()}")
    summary = []
    for label in args.bus or list(BUSES):
        ids, baud = BUSES[label]
        servos = [ServoConfig(i, "xl330-m288", 2048) for i in ids]
        with EmulatorProcess(EmulatorConfig(servos=servos, baudrate=baud, wire_timing=True)) as port:
            for fast in (False, True):
                read = "FAST_SYNC_READ" if fast else "SYNC_READ"
                wire = wire_time_s(ids, baud, fast)
                a = ours(port, ids, baud, args.cycles, fast)
                b = None if args.no_vendor else vendor(port, ids, baud, args.cycles, fast)
                print(f"\n[{label}: {read} {POS.name} + SYNC_WRITE {GOAL.name}, {args.cycles} cycles]")
                print(f"  wire limit: {wire * 1e6:.0f} us")
                ratio = f"{a['median'] / wire:.2f}x wire (median), {a['p99'] / wire:.2f}x (p99)"
                print(f"  ours      : {_fmt(a)}   = {ratio}; {a['retries']} retries")
                if b is not None:
                    print(f"  vendor SDK: {_fmt(b)}   = {b['median'] / wire:.2f}x wire; {b['failures']} failed reads")
                    print(
                        f"  ours vs vendor: {b['median'] / a['median']:.2f}x faster (median), "
                        f"{b['p99'] / a['p99']:.2f}x (p99), {b['cpu'] / a['cpu']:.1f}x less CPU"
                    )
                summary.append((f"{label}, {read}", wire, a))
    print(f"\nend: {_load()}")
    print(f"\nours vs the wire limit (goal <= {GOAL_RATIO}x, median), {args.cycles} cycles each:")
    for name, wire, a in summary:
        verdict = "meets" if a["median"] <= GOAL_RATIO * wire else "MISSES"
        print(
            f"  {name:<36} wire {wire * 1e6:5.0f} us  median {a['median'] / wire:.2f}x  p99 {a['p99'] / wire:.2f}x  "
            f"cpu {a['cpu'] * 1e6:4.0f} us/cycle  {verdict}"
        )
    print("figures vary with machine load: compare runs made at the same load")


if __name__ == "__main__":
    main()
