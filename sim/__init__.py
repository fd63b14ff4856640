"""twinarm's MuJoCo mirror: robot models, the SimRobot backend, tasks as gymnasium envs, scripted experts.

Importing ``sim`` chooses a headless-safe OpenGL backend for MuJoCo (see :mod:`sim.render`) and registers the
``twinarm/`` gymnasium environments. ``sim`` never imports ``hardware`` and needs neither serial nor torch.
"""

from sim.render import select_gl_backend

select_gl_backend()

from sim import envs as _envs  # noqa: E402  (registers the gymnasium ids)
from sim.sim_robot import SimModel, SimRobot  # noqa: E402

__all__ = ["SimModel", "SimRobot"]
del _envs
