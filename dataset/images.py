"""Camera features of dtype ``image``: encoded frames (PNG/JPEG) stored inside the data parquet files.

lerobot writes such features (``use_videos=False``) as a Hugging Face ``Image`` column: one struct
``{bytes: binary, path: string}`` per frame row, ``bytes`` holding the encoded file (embedded) or ``path`` naming
an image file relative to the dataset root (not embedded). :class:`ImageColumns` reads one column of one data
file at a time on demand (an LRU of a few columns), so the image bytes of a large dataset never all sit in memory.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from twinarm.dataset import metadata
from twinarm.dataset.errors import DatasetCorruptError, DatasetFormatError, MissingFileError

_MAX_CACHED_COLUMNS = 4


def decode_image(cell: Any, root: Path, where: str) -> np.ndarray:
    """One (H, W, 3) uint8 RGB image from an ``Image`` cell (``{bytes, path}`` dict, raw bytes, or a path).

    ``where`` (file and row) goes into the error message when the cell is empty or not a decodable image.
    """
    import cv2  # imported here: only image-dtype datasets need it

    data: bytes | None = None
    path: str | None = None
    if isinstance(cell, dict):
        data, path = cell.get("bytes"), cell.get("path")
    elif isinstance(cell, (bytes, bytearray)):
        data = bytes(cell)
    elif isinstance(cell, str):
        path = cell
    if data is None and path:
        file = Path(path) if Path(path).is_absolute() else root / path
        if not file.is_file():
            raise MissingFileError(f"{where}: image file {file} is missing (the cell holds a path, no bytes)")
        data = file.read_bytes()
    if not data:
        raise DatasetCorruptError(f"{where}: the image cell is empty (neither bytes nor a path)")
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise DatasetCorruptError(f"{where}: {len(data)} bytes are not a decodable PNG/JPEG image")
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    else:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if img.dtype != np.uint8:  # 16-bit PNG: keep the 8 most significant bits
        img = (img >> 8).astype(np.uint8)
    return img


class ImageColumns:
    """Image cells of one dataset, addressed by (data file path, row within that file)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._columns: OrderedDict[tuple[Path, str], pa.Array] = OrderedDict()

    def image(self, key: str, path: Path, row: int) -> np.ndarray:
        """Decoded image of feature ``key`` at ``row`` of data file ``path``."""
        col = self._column(key, path)
        if not 0 <= row < len(col):
            raise DatasetCorruptError(f"{path}: row {row} of column {key!r} does not exist ({len(col)} rows)")
        return decode_image(col[row].as_py(), self.root, f"{path} row {row} column {key!r}")

    def _column(self, key: str, path: Path) -> pa.Array:
        col = self._columns.get((path, key))
        if col is None:
            if key not in metadata.parquet_columns(path):
                raise DatasetFormatError(
                    f"{path}: image feature {key!r} of info.json has no column; columns: "
                    f"{metadata.parquet_columns(path)}"
                )
            col = metadata.read_parquet(path, columns=[key]).column(key).combine_chunks()
            self._columns[(path, key)] = col
            while len(self._columns) > _MAX_CACHED_COLUMNS:
                self._columns.popitem(last=False)
        self._columns.move_to_end((path, key))
        return col

    def clear(self) -> None:
        self._columns.clear()
