"""One way to open a serial port: device paths, emulator ptys and pyserial URLs take the same path.

``/dev/ttyACM0``, ``/tmp/so101`` (an emulator symlink), ``loop://`` (loopback) and ``spy:///dev/ttyACM0``
(hexdump of the traffic to stderr, or ``spy://PORT?file=trace.txt``) all go through
:func:`serial.serial_for_url`.
"""

from __future__ import annotations

import serial
from serial.tools import list_ports

from twinarm.hardware.errors import PortError


def available_ports() -> list[str]:
    """Device paths of the serial ports the OS reports (USB adapters etc.; not ptys)."""
    return sorted(p.device for p in list_ports.comports())


def open_port(url: str, baudrate: int = 1_000_000, timeout_s: float = 0.02) -> serial.Serial:
    """Open ``url`` with 8N1 framing; ``timeout_s`` [s] is the read timeout. PortError names the port."""
    try:
        port = serial.serial_for_url(url, baudrate=baudrate, timeout=timeout_s, write_timeout=max(timeout_s, 0.5))
    except (serial.SerialException, OSError, ValueError) as exc:
        ports = available_ports()
        raise PortError(
            f"cannot open serial port ({exc}); available ports: {', '.join(ports) or 'none found'} "
            "(run `twinarm find-port`, or `twinarm emulate` for an emulated bus)",
            port=url,
        ) from exc
    return port
