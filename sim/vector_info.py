"""Infos of a vector env: per-env info dicts stacked into dicts of (N, ...) arrays with ``_key`` masks.

The layout and dtypes are gymnasium's (``VectorEnv._add_info``), so code written for ``SyncVectorEnv`` reads them
unchanged; stacking all envs at once is cheaper than adding them one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _batch_of(value: Any, n: int) -> np.ndarray:
    """An empty (n, ...) array for values like ``value``, with gymnasium's ``VectorEnv._add_info`` dtype rules."""
    if type(value) in (int, float, bool) or isinstance(value, np.number):
        return np.zeros(n, dtype=type(value))
    if isinstance(value, np.ndarray):
        return np.zeros((n, *value.shape), dtype=value.dtype)
    return np.full(n, fill_value=None, dtype=object)


def stack_infos(infos: Sequence[dict[str, Any]], n: int) -> dict[str, Any]:
    """Per-env info dicts -> one dict of (n, ...) arrays, each with a ``_key`` bool mask of the envs that had the
    key; nested dicts recursively. Same layout and dtypes as gymnasium's ``VectorEnv._add_info``."""
    first = infos[0]
    out: dict[str, Any] = {}
    if all(info.keys() == first.keys() for info in infos):  # every env reported the same keys (the usual case)
        for key, value in first.items():
            column = [info[key] for info in infos]
            out[key] = stack_infos(column, n) if isinstance(value, dict) else _stack(column, value, n)
            out["_" + key] = _all_true(n)
        return out
    for key in dict.fromkeys(k for info in infos for k in info):
        mask = np.array([key in info for info in infos], dtype=np.bool_)
        value = next(info[key] for info in infos if key in info)
        if isinstance(value, dict):
            out[key] = stack_infos([info.get(key, {}) for info in infos], n)
        else:
            out[key] = _batch_of(value, n)
            for i, info in enumerate(infos):
                if key in info:
                    out[key][i] = info[key]
        out["_" + key] = mask
    return out


def step_infos(
    success: np.ndarray, sent: np.ndarray, privileged: dict[str, np.ndarray], resets: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    """The stacked infos of a batched ``TaskEnv.step`` (keys ``is_success``, ``action_sent``, ``privileged``) from
    (N, ...) arrays, this step's own (handed out as they are), the envs in ``resets`` reporting their reset infos
    instead."""
    n = len(success)
    if resets:
        infos = [
            resets[i]
            if i in resets
            else {
                "is_success": bool(success[i]),
                "action_sent": sent[i].copy(),
                "privileged": {key: value[i] for key, value in privileged.items()},
            }
            for i in range(n)
        ]
        return stack_infos(infos, n)
    masks = np.empty((3 + len(privileged), n), dtype=np.bool_)  # every env has every key: rows of one array
    masks.fill(True)  # (np.ones costs a Python-level call more)
    privileged_info: dict[str, np.ndarray] = {}
    for j, (key, value) in enumerate(privileged.items(), 3):
        privileged_info[key], privileged_info["_" + key] = value, masks[j]
    return {
        "is_success": success,
        "_is_success": masks[0],
        "action_sent": sent,
        "_action_sent": masks[1],
        "privileged": privileged_info,
        "_privileged": masks[2],
    }


def _all_true(n: int) -> np.ndarray:
    return np.ones(n, dtype=np.bool_)


def _stack(column: list[Any], value: Any, n: int) -> np.ndarray:
    """``column`` (one value per env, all like ``value``) as an (n, ...) array with ``_batch_of``'s dtype."""
    array = _batch_of(value, n)
    for i, v in enumerate(column):
        array[i] = v
    return array
