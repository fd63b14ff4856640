"""The one observation pipeline: robot observations (cameras at their native size) -> a policy's inputs.

:func:`fit_image` is the only image conversion in twinarm: crop the centre of the frame to the target's aspect
ratio, then resize it (OpenCV ``INTER_AREA``) to the target height x width; RGB uint8 in and out, and a frame that
already has the target size passes through unchanged. Training applies it to dataset frames, every command that
runs a policy applies it through :class:`ObservationPipeline` (built from the policy's
:class:`~twinarm.robot.policy_contract.PolicyContract`), and hardware cameras use it to reach their configured size,
so sim and hardware frames take the same code path. Float scaling (uint8 / 255) happens in the policy.
"""

from __future__ import annotations

import cv2
import numpy as np

from twinarm.robot.features import JOINT_POS, image_key
from twinarm.robot.policy_contract import PolicyContract, PolicyMismatchError


def crop_box(height: int, width: int, target_hw: tuple[int, int]) -> tuple[int, int, int, int]:
    """(top, left, crop_height, crop_width) [px] of the largest centred window of a ``height`` x ``width`` frame
    with the aspect ratio of ``target_hw``."""
    th, tw = target_hw
    if height * tw > width * th:  # frame is taller than the target: crop rows
        ch, cw = max(1, round(width * th / tw)), width
    else:  # wider (or equal): crop columns
        ch, cw = height, max(1, round(height * tw / th))
    return (height - ch) // 2, (width - cw) // 2, ch, cw


def fit_image(image: np.ndarray, target_hw: tuple[int, int]) -> np.ndarray:
    """(..., H, W, 3) uint8 RGB -> (..., th, tw, 3) uint8 RGB: aspect-preserving centre crop, then resize."""
    img = np.asarray(image)
    if img.dtype != np.uint8 or img.ndim < 3 or img.shape[-1] != 3:
        raise PolicyMismatchError(f"camera frames must be (H, W, 3) uint8 RGB; got shape {img.shape} dtype {img.dtype}")
    th, tw = int(target_hw[0]), int(target_hw[1])
    h, w = img.shape[-3:-1]
    if (h, w) == (th, tw):
        return img
    if img.ndim > 3:
        flat = img.reshape(-1, h, w, 3)
        return np.stack([fit_image(f, (th, tw)) for f in flat]).reshape(*img.shape[:-3], th, tw, 3)
    top, left, ch, cw = crop_box(h, w, (th, tw))
    crop = np.ascontiguousarray(img[top : top + ch, left : left + cw])
    return np.ascontiguousarray(cv2.resize(crop, (tw, th), interpolation=cv2.INTER_AREA), dtype=np.uint8)


class ObservationPipeline:
    """Turns a robot observation (``joint_pos`` [rad], ``image_<cam>`` at any size; optionally a leading batch
    axis) into exactly the inputs of ``contract``: the joint positions and each of its cameras at its input
    size. A missing key raises :class:`PolicyMismatchError` naming what the policy needs and what is there."""

    def __init__(self, contract: PolicyContract) -> None:
        self.contract = contract
        self.n_joints = len(contract.joint_names)
        self.sizes = {image_key(c.name): (c.height, c.width) for c in contract.cameras}

    def __call__(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        missing = [k for k in (JOINT_POS, *self.sizes) if k not in obs]
        if missing:
            raise PolicyMismatchError(f"the policy needs observation keys {missing}; the observation has {sorted(obs)}")
        pos = np.asarray(obs[JOINT_POS], dtype=np.float32)
        if pos.shape[-1] != self.n_joints:
            raise PolicyMismatchError(
                f"the policy expects {self.n_joints} joint positions {list(self.contract.joint_names)}; "
                f"the observation has {pos.shape[-1]}"
            )
        out = {JOINT_POS: pos}
        for key, hw in self.sizes.items():
            out[key] = fit_image(obs[key], hw)
        return out
