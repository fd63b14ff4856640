"""twinarm's MuJoCo mirror: robot models, the SimRobot backend, tasks as gymnasium envs, scripted experts.

Importing ``sim`` chooses a headless-safe OpenGL backend for MuJoCo (see :mod:`sim.render`) and registers the
``twinarm/`` gymnasium environments. ``sim`` never imports ``hardware`` and needs neither serial nor torch.
"""

from twinarm.sim.render import select_gl_backend

select_gl_backend()

from twinarm.sim import envs as _envs  # noqa: E402  (registers the gymnasium ids)
from twinarm.sim.envs import ENV_IDS, env_id  # noqa: E402
from twinarm.sim.experts import make_expert  # noqa: E402
from twinarm.sim.render import RenderError  # noqa: E402
from twinarm.sim.sim_robot import SO101_SIM, SimModel, SimRobot  # noqa: E402

__all__ = ["ENV_IDS", "SO101_SIM", "RenderError", "SimModel", "SimRobot", "env_id", "make_expert"]
del _envs
