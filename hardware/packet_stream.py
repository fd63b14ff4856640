"""The byte buffer under every streaming packet decoder (Feetech, Dynamixel): feed bytes, drop what is junk."""

from __future__ import annotations


class PacketStream:
    """Bytes received but not yet decoded; a decoder subclass adds ``pop()``. ``discarded`` counts the bytes
    dropped while resynchronising (junk, rejected frames)."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.discarded = 0

    def feed(self, data: bytes | bytearray) -> None:
        self._buf += data

    def clear(self) -> None:
        self._buf.clear()

    @property
    def pending(self) -> int:
        """Bytes buffered but not yet returned as packets."""
        return len(self._buf)

    def _drop(self, n: int) -> None:
        del self._buf[:n]
        self.discarded += n
