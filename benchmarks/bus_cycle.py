"""One control cycle (SYNC_READ Present_Position of 6 servos + SYNC_WRITE 6 goals) on the emulator.

Compares our FeetechBus with the vendor SDK's GroupSyncRead/GroupSyncWrite on the same emulated bus (served
from a separate process, so the bus under test does not share a GIL with the emulator), and against the wire
limit: the bytes one cycle puts on the wire at the baud rate, 10 bits per byte. Run:
``python benchmarks/bus_cycle.py [--cycles 2000]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from twinarm.hardware.emulator import EmulatorConfig, EmulatorProcess
from twinarm.hardware.feetech import protocol as proto
from twinarm.hardware.feetech.bus import FeetechBus
from twinarm.hardware.feetech.tables import STS3215

IDS = [1, 2, 3, 4, 5, 6]
BAUD = 1_000_000
POS, GOAL = STS3215.PRESENT_POSITION, STS3215.GOAL_POSITION


def wire_time_s(baud: int = BAUD) -> float:
    """Wire time of one cycle [s]: request + 6 status packets + the sync write, 10 bits per byte."""
    n = len(proto.sync_read_packet(POS.address, POS.size, IDS))
    n += len(IDS) * (proto.STATUS_OVERHEAD + POS.size)
    n += len(proto.sync_write_packet(GOAL.address, GOAL.size, [(i, b"\x00\x08") for i in IDS]))
    return n * 10 / baud


def time_cycles(cycle, n: int) -> dict[str, float]:
    """Wall median/p99 [s] and CPU time [s] per call of ``cycle`` over ``n`` calls, after a warm-up."""
    for _ in range(min(50, n)):  # warm up
        cycle()
    wall = np.empty(n)
    cpu0 = time.process_time()
    for k in range(n):
        t0 = time.perf_counter()
        cycle()
        wall[k] = time.perf_counter() - t0
    cpu = (time.process_time() - cpu0) / n
    return {"median": float(np.median(wall)), "p99": float(np.percentile(wall, 99)), "cpu": cpu}


def ours(port: str, n: int) -> dict[str, float]:
    goals = [2048] * 6
    with FeetechBus(port, BAUD) as bus:

        def cycle() -> None:
            bus.sync_read(POS, IDS)
            bus.sync_write(GOAL, IDS, goals)

        result = time_cycles(cycle, n)
        assert bus.stats.retries == 0, bus.stats
    return result


def vendor(port: str, n: int) -> dict[str, float] | None:
    try:
        import scservo_sdk as scs
    except ImportError:
        return None
    handler = scs.PortHandler(port)
    handler.openPort()
    handler.setBaudRate(BAUD)
    packets = scs.PacketHandler(0)
    reader = scs.GroupSyncRead(handler, packets, POS.address, POS.size)
    writer = scs.GroupSyncWrite(handler, packets, GOAL.address, GOAL.size)
    for i in IDS:
        reader.addParam(i)
        writer.addParam(i, [0x00, 0x08])

    failures = [0]

    def cycle() -> None:
        if reader.txRxPacket() != scs.COMM_SUCCESS:
            failures[0] += 1
        [reader.getData(i, POS.address, POS.size) for i in IDS]
        for i in IDS:
            writer.changeParam(i, [0x00, 0x08])
        writer.txPacket()

    try:
        return {**time_cycles(cycle, n), "failures": failures[0]}
    finally:
        handler.closePort()


def sustained(port: str, rate_hz: float, duration_s: float) -> tuple[float, int, int]:
    """Run a fixed-rate loop; returns (achieved rate [Hz], overruns, cycles)."""
    period = 1.0 / rate_hz
    overruns = cycles = 0
    with FeetechBus(port, BAUD) as bus:
        start = next_t = time.perf_counter()
        while next_t - start < duration_s:
            bus.sync_read(POS, IDS)
            bus.sync_write(GOAL, IDS, [2048] * 6)
            cycles += 1
            next_t += period
            slack = next_t - time.perf_counter()
            if slack < 0:
                overruns += 1
            else:
                time.sleep(slack)
        elapsed = time.perf_counter() - start
    return cycles / elapsed, overruns, cycles


def _fmt(r: dict[str, float]) -> str:
    return f"median {r['median'] * 1e6:7.0f} us   p99 {r['p99'] * 1e6:7.0f} us   cpu {r['cpu'] * 1e6:6.0f} us/cycle"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=2000)
    args = parser.parse_args()
    wire = wire_time_s()
    print(f"cycle = SYNC_READ {POS.name} x6 + SYNC_WRITE {GOAL.name} x6; wire limit at 1 Mbaud: {wire * 1e6:.0f} us")
    for wire_timing in (False, True):
        cfg = EmulatorConfig(wire_timing=wire_timing, baudrate=BAUD)
        with EmulatorProcess(cfg) as port:
            a = ours(port, args.cycles)
            b = vendor(port, args.cycles)
            label = "emulator with wire timing" if wire_timing else "emulator without wire timing"
            print(f"\n[{label}, {args.cycles} cycles]")
            print(f"  ours      : {_fmt(a)}")
            if b is not None:
                print(f"  vendor SDK: {_fmt(b)}   ({b['failures']} failed sync reads)")
                print(
                    f"  ours vs vendor: {b['median'] / a['median']:.2f}x faster (median), "
                    f"{b['p99'] / a['p99']:.2f}x (p99), {b['cpu'] / a['cpu']:.1f}x less CPU"
                )
            if wire_timing:
                print(f"  ours / wire limit: {a['median'] / wire:.2f}x (median), {a['p99'] / wire:.2f}x (p99)")
                rate, overruns, cycles = sustained(port, 200.0, 2.0)
                print(f"  sustained 200 Hz loop: {rate:.1f} Hz achieved, {overruns}/{cycles} overruns")
    print(f"\nfigures from one run of {args.cycles} cycles each; they vary with machine load")


if __name__ == "__main__":
    main()
