"""Learned policies (torch): ACT, Diffusion Policy and a BC baseline behind one :class:`Policy` interface,
plus the training loop (``policies.train``) and simulated evaluation (``policies.evaluate``).

Checkpoints are directories with ``config.json`` + ``model.safetensors``; the same checkpoint drives the sim
robot and the real arm. This package never imports ``hardware``.
"""

from twinarm.policies.base import Policy
from twinarm.policies.registry import available_policies, get_policy_class, make_policy

__all__ = ["Policy", "available_policies", "get_policy_class", "make_policy"]
