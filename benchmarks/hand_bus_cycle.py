"""One Amazing Hand bus cycle: read 8 SCS0009 positions + SYNC_WRITE 8 goals, on the emulator with wire timing.

The SCS0009 has no SYNC_READ, so a cycle reads the servos one by one (8 READ round trips) and writes all goals in
one SYNC_WRITE. Compared against the wire limit (the bytes the cycle puts on the wire at 1 Mbaud, 10 bits per
byte, zero return delay) and, measured in the same run on the same emulated bus (served from a separate process),
the vendor SDK doing the same cycle (read2ByteTxRx per servo + GroupSyncWrite). Also times the FeetechRobot
cycle (get_observation: position + velocity in one 4-byte READ per servo, radians, transmission; send_action).
``--robot hopejr_hand``: the same cycle over the HopeJR hand's 16 SCS0009 (its FeetechRobot cycle through the tendon
transmission). Run: ``python benchmarks/hand_bus_cycle.py [--cycles 1000] [--robot amazing_hand|hopejr_hand]``.
"""

from __future__ import annotations

import argparse

from bus_cycle import time_cycles  # the same timing as the arm benchmark (benchmarks/ is on sys.path when run)

from twinarm.hardware.calibration_io import nominal_calibration, write_calibration
from twinarm.hardware.emulator import EmulatorConfig, EmulatorProcess, servos_for
from twinarm.hardware.feetech import protocol as proto
from twinarm.hardware.feetech.bus import FeetechBus
from twinarm.hardware.feetech.tables import SCS0009
from twinarm.hardware.hand import AMAZING_HAND_RIGHT
from twinarm.hardware.hopejr_hand import HOPEJR_HAND_DESC
from twinarm.hardware.robots import FeetechRobot

HANDS = {"amazing_hand": AMAZING_HAND_RIGHT, "hopejr_hand": HOPEJR_HAND_DESC}
HAND = AMAZING_HAND_RIGHT  # set by --robot
IDS = list(HAND.ids)
BAUD = 1_000_000
POS, GOAL = SCS0009.PRESENT_POSITION, SCS0009.GOAL_POSITION


def wire_time_s(read_size: int = POS.size, baud: int = BAUD) -> float:
    """Wire time of one cycle [s]: a READ request and its status reply per servo, then one SYNC_WRITE."""
    n = len(IDS) * (len(proto.read_packet(IDS[0], POS.address, read_size)) + proto.STATUS_OVERHEAD + read_size)
    n += len(proto.sync_write_packet(GOAL.address, GOAL.size, [(i, b"\x01\xff") for i in IDS]))
    return n * 10 / baud


def ours(port: str, n: int) -> dict[str, float]:
    goals = [511] * len(IDS)
    with FeetechBus(port, BAUD, SCS0009) as bus:

        def cycle() -> None:
            bus.sync_read(POS, IDS)  # falls back to one READ per servo: SCS0009 has no SYNC_READ
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
    packets = scs.PacketHandler(1)  # 1: big-endian (SCS); the SDK keeps this in a module global
    writer = scs.GroupSyncWrite(handler, packets, GOAL.address, GOAL.size)
    for i in IDS:
        writer.addParam(i, [scs.SCS_LOBYTE(511), scs.SCS_HIBYTE(511)])
    failures = [0]

    def cycle() -> None:
        for i in IDS:
            if packets.read2ByteTxRx(handler, i, POS.address)[1] != scs.COMM_SUCCESS:
                failures[0] += 1
        writer.txPacket()

    try:
        return {**time_cycles(cycle, n), "failures": failures[0]}
    finally:
        handler.closePort()
        scs.PacketHandler(0)  # restore the SDK's default byte order


def robot_cycle(port: str, n: int) -> dict[str, float]:
    cal = nominal_calibration(HAND)
    with FeetechBus(port, BAUD, SCS0009) as bus:
        write_calibration(bus, cal)
    with FeetechRobot(HAND, port, cal) as hand:
        target = hand.last_target

        def cycle() -> None:
            hand.get_observation()
            hand.send_action(target)

        return time_cycles(cycle, n)


def _fmt(r: dict[str, float]) -> str:
    return f"median {r['median'] * 1e6:7.0f} us   p99 {r['p99'] * 1e6:7.0f} us   cpu {r['cpu'] * 1e6:6.0f} us/cycle"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--robot", choices=sorted(HANDS), default="amazing_hand")
    args = parser.parse_args()
    global HAND, IDS
    HAND = HANDS[args.robot]
    IDS = list(HAND.ids)
    wire, wire4 = wire_time_s(), wire_time_s(read_size=4)
    n = len(IDS)
    print(f"{args.robot}: cycle = READ {POS.name} x{n} (one by one) + SYNC_WRITE {GOAL.name} x{n} on SCS0009 servos")
    print(f"wire limit at 1 Mbaud: {wire * 1e6:.0f} us (robot cycle, 4-byte reads: {wire4 * 1e6:.0f} us)")
    cfg = EmulatorConfig(servos=servos_for(HAND), wire_timing=True, baudrate=BAUD)
    with EmulatorProcess(cfg) as port:
        a = ours(port, args.cycles)
        b = vendor(port, args.cycles)
        r = robot_cycle(port, args.cycles)
    print(f"\n[emulator with wire timing, {args.cycles} cycles]")
    print(f"  ours      : {_fmt(a)}")
    print(f"  ours / wire limit: {a['median'] / wire:.2f}x (median), {a['p99'] / wire:.2f}x (p99)")
    if b is not None:
        print(f"  vendor SDK: {_fmt(b)}   ({b['failures']} failed reads)")
        print(
            f"  ours vs vendor: {b['median'] / a['median']:.2f}x faster (median), {b['p99'] / a['p99']:.2f}x (p99), "
            f"{b['cpu'] / a['cpu']:.1f}x less CPU"
        )
    print(f"  robot     : {_fmt(r)}")
    print(f"  robot / wire limit (4-byte reads): {r['median'] / wire4:.2f}x (median), {r['p99'] / wire4:.2f}x (p99)")
    print(f"\nfigures from one run of {args.cycles} cycles each; they vary with machine load")


if __name__ == "__main__":
    main()
