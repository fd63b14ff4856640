"""Which physics a simulator runs, composed for the CLI: ``sim.params=...`` and ``reality.seed=N``.

Every command that builds a simulator (sim, eval, demo, deploy on sim, emulate physics=sim, the HIL rig, mirror)
carries a :class:`SimConfig` and a :class:`RealityConfig` and turns them into sim parameters with
:func:`sim_params_for`: the hidden-reality draw when ``reality.seed`` is set (its truth written to
``reality.truth`` if given), else ``sim.params`` (a preset name, a ``sim_params.json`` path, or "" for the model's
identified default). ``sim.camera=camera.json`` (written by ``twinarm calibrate camera``) places that camera where
the calibration found it, with its FOV and aspect (carried as ``SimParams.cameras``).
A task env also shows the reality's look (held-out colours, light, camera, image effects) with
:func:`reality_env_kwargs`.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from twinarm.robot.errors import ConfigError

if TYPE_CHECKING:  # importing sim loads MuJoCo: not at CLI start-up
    from twinarm.sim.sim_params import SimParams
    from twinarm.sim.sim_robot import SimModel


@dataclasses.dataclass
class SimConfig:
    """``params``: "" = the robot's default (identified servos, its ``SimModel.physics.default``), a preset name
    (``xml`` = the MJCF's own figures, ``sts3215_7v4_5v``, ``sts3215_7v4_6v``, ``sts3215_12v``, ``scs0009_5v``)
    or the path of a ``sim_params.json`` (e.g. written by ``reality.truth`` or a system identification).
    ``camera``: a camera file (``twinarm calibrate camera``) whose pose, FOV and aspect the sim camera takes."""

    params: str = ""
    camera: str = ""


@dataclasses.dataclass
class RealityConfig:
    """``seed``: simulate hidden reality ``seed`` (sim.reality) instead of ``sim.params``; ``truth``: write the
    drawn parameters there (sim_params.json schema; for tests and benchmarks, not for fitting)."""

    seed: int | None = None
    truth: str = ""


def sim_params_for(model: SimModel, sim: SimConfig, reality: RealityConfig) -> SimParams | None:
    """The sim parameters of sim model ``model`` (a registry entry's ``sim``) these configs select (None: the MJCF's
    own figures), with the calibrated camera of ``sim.camera``; validated now, so a bad file fails before anything
    starts."""
    params = _servo_params_for(model, sim, reality)
    if not sim.camera:
        return params
    from twinarm.robot.camera_file import load_camera_file

    if params is None:
        raise ConfigError("sim.camera=... needs sim parameters; sim.params=xml runs the MJCF as is (give a preset)")
    return params.replace(cameras=(*params.cameras, load_camera_file(sim.camera)))


def _servo_params_for(model: SimModel, sim: SimConfig, reality: RealityConfig) -> SimParams | None:
    from twinarm.sim.servo_models import resolve_params

    if reality.seed is not None:
        from twinarm.sim.reality import draw_reality
        from twinarm.sim.sim_params import save_sim_params

        params = draw_reality(model, int(reality.seed))
        if reality.truth:
            path = save_sim_params(params, reality.truth)
            print(f"hidden reality {reality.seed}: truth written to {path}", flush=True)
        return params
    if reality.truth:
        raise ConfigError("reality.truth needs reality.seed=N (the reality whose truth to write)")
    return resolve_params(model, sim.params)


def reality_env_kwargs(reality: RealityConfig) -> dict[str, int]:
    """Task-env keywords that show hidden reality ``reality.seed``'s look (its held-out appearance,
    :class:`sim.reality.RealityLook`); empty without a reality."""
    return {} if reality.seed is None else {"appearance": int(reality.seed)}


def sim_model_of_task(task: str) -> SimModel:
    """The sim model whose simulated task ``task`` is (a task name or env id); a ConfigError lists the tasks."""
    from twinarm.sim.envs import ENV_IDS, env_id, find_task

    eid = env_id(task)  # a ConfigError lists the valid tasks
    name = next(t for t, i in ENV_IDS.items() if i == eid)
    return find_task(name)[1].model


def sim_overrides(sim: SimConfig, reality: RealityConfig) -> list[str]:
    """The command-line keys that select this physics again (empty for the default), for printed follow-ups."""
    keys = [f"sim.params={sim.params}"] if sim.params else []
    keys += [f"sim.camera={sim.camera}"] if sim.camera else []
    return keys + ([f"reality.seed={reality.seed}"] if reality.seed is not None else [])
