"""Reading and writing the parquet/JSON metadata of a v3.0 dataset (pyarrow only, no pandas).

``meta/tasks.parquet`` is written the way pandas writes lerobot's tasks frame (the task text is the pandas
index named ``task``), so ``pd.read_parquet`` in lerobot gets ``tasks.loc[text].task_index``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from twinarm.dataset import layout
from twinarm.dataset.errors import DatasetCorruptError, DatasetFormatError, MissingFileError
from twinarm.dataset.stats import Stats
from twinarm.robot.files import replace_durably

_PA_DTYPES = {
    "float32": pa.float32(),
    "float64": pa.float64(),
    "int64": pa.int64(),
    "int32": pa.int32(),
    "bool": pa.bool_(),
    "int16": pa.int16(),
    "int8": pa.int8(),
    "uint8": pa.uint8(),
    "float16": pa.float16(),
}


def read_parquet(path: Path, columns: list[str] | None = None) -> pa.Table:
    """A parquet table, or a typed error naming the file."""
    if not path.is_file():
        raise MissingFileError(f"parquet file {path} is missing")
    try:
        return pq.read_table(path, columns=columns)
    except (pa.ArrowInvalid, OSError) as e:
        raise DatasetCorruptError(f"parquet file {path} is corrupt or unreadable: {e}") from e
    except KeyError as e:
        raise DatasetFormatError(f"parquet file {path} lacks column {e}") from e


def parquet_columns(path: Path) -> list[str]:
    """Column names of a parquet file (schema only, no data read), or a typed error naming the file."""
    if not path.is_file():
        raise MissingFileError(f"parquet file {path} is missing")
    try:
        return list(pq.read_schema(path).names)
    except (pa.ArrowInvalid, OSError) as e:
        raise DatasetCorruptError(f"parquet file {path} is corrupt or unreadable: {e}") from e


def write_parquet_atomic(table: pa.Table, path: Path) -> None:
    """Write ``table`` via a temp file, fsync and os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    replace_durably(tmp, path)


# -- info ----------------------------------------------------------------------------------------------------
def read_info(root: Path) -> dict[str, Any]:
    path = root / layout.INFO_PATH
    if not path.is_file():
        raise MissingFileError(f"{path} is missing: {root} is not a LeRobot dataset (no meta/info.json)")
    try:
        info = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DatasetCorruptError(f"{path} is not valid JSON: {e}") from e
    version = str(info.get("codebase_version", "?"))
    if not version.startswith("v3."):
        raise DatasetFormatError(
            f"{path}: codebase_version {version!r} is not supported; twinarm reads LeRobot v3.x datasets "
            "(convert v2.x datasets with lerobot's convert_dataset_v21_to_v30)"
        )
    for key in ("fps", "features", "data_path"):
        if key not in info:
            raise DatasetFormatError(f"{path}: required key {key!r} is missing")
    for name in ("index", "episode_index", "frame_index", "timestamp"):
        if name not in info["features"]:
            raise DatasetFormatError(f"{path}: feature {name!r} is missing from 'features'")
    return info


# -- tasks ---------------------------------------------------------------------------------------------------
def write_tasks(root: Path, tasks: list[str]) -> None:
    """``tasks[i]`` gets task_index ``i``; pandas metadata makes ``task`` the frame's index."""
    table = pa.table({"task_index": pa.array(range(len(tasks)), pa.int64()), "task": pa.array(tasks, pa.string())})
    pandas_meta = {
        "index_columns": ["task"],
        "column_indexes": [
            {
                "name": None,
                "field_name": None,
                "pandas_type": "unicode",
                "numpy_type": "object",
                "metadata": {"encoding": "UTF-8"},
            }
        ],
        "columns": [
            {
                "name": "task_index",
                "field_name": "task_index",
                "pandas_type": "int64",
                "numpy_type": "int64",
                "metadata": None,
            },
            {"name": "task", "field_name": "task", "pandas_type": "unicode", "numpy_type": "object", "metadata": None},
        ],
        "creator": {"library": "pyarrow", "version": pa.__version__},
        "pandas_version": "2.2.3",
    }
    table = table.replace_schema_metadata({b"pandas": json.dumps(pandas_meta).encode()})
    write_parquet_atomic(table, root / layout.TASKS_PATH)


def read_tasks(root: Path) -> list[str]:
    """Task texts ordered by task_index (accepts a named or unnamed pandas index)."""
    path = root / layout.TASKS_PATH
    table = read_parquet(path)
    names = table.column_names
    text_col = "task" if "task" in names else next((c for c in names if c.startswith("__index_level")), None)
    if text_col is None or "task_index" not in names:
        raise DatasetFormatError(f"{path}: expected columns 'task' and 'task_index', found {names}")
    texts = table.column(text_col).to_pylist()
    idx = table.column("task_index").to_pylist()
    out = [""] * len(texts)
    for i, t in zip(idx, texts):
        if not 0 <= i < len(out):
            raise DatasetFormatError(f"{path}: task_index {i} out of range 0..{len(out) - 1}")
        out[i] = t
    return out


# -- episodes ------------------------------------------------------------------------------------------------
def episodes_files(root: Path) -> list[Path]:
    return sorted((root / layout.EPISODES_DIR).glob("chunk-*/file-*.parquet"))


def read_episodes(root: Path, with_stats: bool = False) -> list[dict[str, Any]]:
    """One dict per episode ordered by episode_index (``stats/...`` columns only when asked)."""
    files = episodes_files(root)
    if not files:
        return []
    rows: list[dict[str, Any]] = []
    for f in files:
        table = read_parquet(f)
        if not with_stats:
            table = table.select([c for c in table.column_names if not c.startswith("stats/")])
        rows.extend(table.to_pylist())
    for f_req in ("episode_index", "length", "dataset_from_index", "dataset_to_index"):
        if rows and f_req not in rows[0]:
            raise DatasetFormatError(f"{files[0]}: episodes metadata lacks column {f_req!r}")
    rows.sort(key=lambda r: r["episode_index"])
    return rows


def episode_stats(row: dict[str, Any]) -> dict[str, Stats]:
    """Per-episode stats from a row read with ``with_stats=True``."""
    out: dict[str, Stats] = {}
    for col, val in row.items():
        if col.startswith("stats/") and val is not None:
            feature, stat = col[len("stats/") :].rsplit("/", 1)
            out.setdefault(feature, {})[stat] = np.asarray(val)
    return out


def episodes_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Episodes metadata rows -> table (stats arrays become nested lists; integers int64)."""
    cols: dict[str, list] = {k: [r.get(k) for r in rows] for k in rows[0]}
    arrays = {}
    for k, vals in cols.items():
        if k == "tasks":
            arrays[k] = pa.array(vals, pa.list_(pa.string()))
        elif k.startswith("stats/"):
            arrays[k] = pa.array([np.asarray(v).tolist() for v in vals])
        elif k.endswith("_timestamp"):
            arrays[k] = pa.array(vals, pa.float64())
        elif isinstance(vals[0], (int, np.integer)):
            arrays[k] = pa.array(vals, pa.int64())
        else:
            arrays[k] = pa.array(vals)
    return pa.table(arrays)


# -- frame data ----------------------------------------------------------------------------------------------
def frames_table(columns: dict[str, np.ndarray], features: dict) -> pa.Table:
    """Frame rows -> table typed from ``features``: (n,) vectors are fixed-size lists, scalars plain columns."""
    arrays = {}
    for key in layout.lowdim_keys(features):
        ft = features[key]
        if key not in columns:
            raise DatasetFormatError(f"frame data lacks feature {key!r}")
        dtype = _PA_DTYPES.get(ft["dtype"])
        if dtype is None:
            raise DatasetFormatError(f"feature {key!r}: dtype {ft['dtype']!r} not supported")
        values = np.asarray(columns[key])
        if list(ft["shape"]) == [1]:
            arrays[key] = pa.array(values.reshape(-1), type=dtype)
        else:
            width = int(np.prod(ft["shape"]))
            flat = pa.array(values.reshape(-1).astype(ft["dtype"]), type=dtype)
            arrays[key] = pa.FixedSizeListArray.from_arrays(flat, width)
    return pa.table(arrays)


def column_numpy(table: pa.Table, key: str, ft: dict, path: Path) -> np.ndarray:
    """A column as numpy: (N,) for scalar features, (N, *shape) for vectors."""
    if key not in table.column_names:
        raise DatasetFormatError(f"{path}: feature {key!r} of info.json has no column; columns: {table.column_names}")
    col = table.column(key).combine_chunks()
    shape = [int(s) for s in ft["shape"]]
    if shape == [1] and not pa.types.is_list(col.type) and not pa.types.is_fixed_size_list(col.type):
        return col.to_numpy(zero_copy_only=False).astype(ft["dtype"], copy=False)
    flat = col.flatten()
    while pa.types.is_list(flat.type) or pa.types.is_fixed_size_list(flat.type):
        flat = flat.flatten()
    arr = flat.to_numpy(zero_copy_only=False).astype(ft["dtype"], copy=False)
    try:
        return arr.reshape(len(col), *shape)
    except ValueError as e:
        raise DatasetCorruptError(f"{path}: column {key!r} does not hold shape {shape} per row") from e
