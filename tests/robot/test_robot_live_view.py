"""The live view (``display=rerun``) without rerun installed: the missing extra is a typed error raised before
anything moves, bad display values are refused, and a failing view never stops (or thins) a recording."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest

from tests.dataset.fake_source import SPEC
from twinarm.cli.main import main
from twinarm.compose.errors import MissingExtraError
from twinarm.compose.scripted import SyntheticRobot
from twinarm.compose.viewer import DisplayConfig, RerunView, ViewerWarning, open_display, require_rerun
from twinarm.dataset import LeRobotDatasetReader, Recorder, RecorderSettings
from twinarm.dataset.session import EpisodePlan, record_episodes
from twinarm.robot.errors import ConfigError, TwinarmError


@pytest.fixture
def no_rerun(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rerun", None)  # `import rerun` raises ImportError, as when not installed


def test_missing_extra_is_a_typed_error_naming_the_install(no_rerun) -> None:
    with pytest.raises(MissingExtraError, match=r'pip install "twinarm\[viz\]"') as info:
        require_rerun()
    assert isinstance(info.value, TwinarmError) and isinstance(info.value, ImportError)
    with pytest.raises(MissingExtraError), open_display(DisplayConfig(rrd="x.rrd"), SPEC, "test"):
        pass
    with open_display(DisplayConfig(), SPEC, "test") as view:  # display off: rerun is never imported
        assert view is None


def test_cli_reports_the_missing_extra_before_the_robot_moves(no_rerun, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code = main(["teleop", "source=wave", "keys=none", "duration_s=5", "display=rerun", f"output_dir={out}"])
    err = capsys.readouterr().err
    assert code == 1 and 'pip install "twinarm[viz]"' in err and "Traceback" not in err
    assert not (out / "report.json").exists()  # refused at validation, nothing ran
    code = main(["dataset", "visualize", str(tmp_path / "nowhere"), "--rrd", str(tmp_path / "d.rrd")])
    assert code == 1 and 'pip install "twinarm[viz]"' in capsys.readouterr().err


@pytest.mark.parametrize(
    ("cfg", "key"),
    [
        (DisplayConfig(kind="foxglove"), "display="),
        (DisplayConfig(kind="rerun", rrd="a.rrd", image_hz=-1), "display.image_hz"),
        (DisplayConfig(kind="rerun", rrd="a.rrd", jpeg_quality=101), "display.jpeg_quality"),
    ],
)
def test_bad_display_values_name_the_key(cfg: DisplayConfig, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        cfg.validate()


def test_an_rrd_path_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"display\.rrd=.* is a directory"):
        DisplayConfig(rrd=str(tmp_path)).validate()


def test_no_display_and_no_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("rerun")  # the destination is checked after the extra
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(ConfigError, match=r"display\.rrd=PATH"):
        DisplayConfig(kind="rerun").validate()


class _FakeRerun(types.SimpleNamespace):
    """Stands in for the rerun module: archetypes are plain tuples."""

    def __init__(self) -> None:
        super().__init__(
            SeriesLines=lambda **kw: ("series", kw),
            Scalars=lambda v: ("scalars", v),
            TextLog=lambda text: ("text", text),
            Image=lambda a: ("image", a.shape),
            EncodedImage=lambda **kw: ("jpeg", len(kw["contents"])),
        )


class _BreakingRecording:
    """A recording whose ``log`` raises after ``ok_calls`` calls (a viewer that died, a full disk)."""

    def __init__(self, ok_calls: int) -> None:
        self.ok_calls, self.logged = ok_calls, []

    def set_time(self, *args, **kwargs) -> None:
        pass

    def log(self, path: str, value: object, static: bool = False) -> None:
        if len(self.logged) >= self.ok_calls:
            raise RuntimeError("viewer connection lost")
        self.logged.append((path, value))

    def flush(self, timeout_sec: float) -> None:
        raise RuntimeError("still lost")

    def disconnect(self) -> None:
        pass


class _Wave:
    def reset(self) -> None:
        self.k = 0

    def act(self, obs) -> np.ndarray:
        self.k += 1
        return np.full(SPEC.num_joints, 0.01 * self.k, np.float32)


def test_a_failing_view_warns_once_and_the_recording_keeps_every_frame(tmp_path: Path) -> None:
    rec = _BreakingRecording(ok_calls=3 * 10)  # a few cycles get through, then every call fails
    view = RerunView(rec, SPEC, image_hz=0, rr=_FakeRerun())
    with pytest.warns(ViewerWarning, match="viewer connection lost") as caught:
        with Recorder(tmp_path / "ds", SPEC, RecorderSettings(fps=SPEC.control_hz)) as recorder:
            with SyntheticRobot(SPEC) as robot:
                saved = record_episodes(
                    recorder, robot, _Wave(), EpisodePlan(2, 0.5, "wave", realtime=False), observers=[view]
                )
        view.close()
    assert len(caught) == 1 and view.failed is not None  # one warning, then the view is quiet
    assert 0 < len(rec.logged) <= 30
    frames = [s.summary.frames for s in saved]
    assert frames == [15, 15]
    reader = LeRobotDatasetReader(tmp_path / "ds")
    assert reader.num_episodes == 2 and len(reader) == 30  # nothing recorded was lost


def test_the_view_logs_what_the_loop_saw() -> None:
    class Recording(_BreakingRecording):
        def flush(self, timeout_sec: float) -> None:
            pass

    rec = Recording(ok_calls=10**6)
    view = RerunView(rec, SPEC, image_hz=10, jpeg_quality=0, rr=_FakeRerun(), residual=lambda: np.arange(3.0))
    obs = {"joint_pos": np.array([0.1, 0.2, 0.3], np.float32), "image_front": np.zeros((48, 64, 3), np.uint8)}
    for k in range(4):
        view.on_step(obs, np.array([1.0, 2.0, 3.0]) * k, 10.0 + 0.05 * k)  # 20 Hz cycles, images at 10 Hz
    view.close()
    logged = {}
    for path, value in rec.logged:
        logged.setdefault(path, []).append(value)
    assert logged["joints/j2"][1:] == [("scalars", [np.float32(0.3), 3.0 * k]) for k in range(4)]
    assert [v[1] for v in logged["residual/j1"]] == [1.0] * 4
    assert [round(v[1], 6) for v in logged["loop/period_ms"]] == [50.0] * 3
    assert logged["cameras/front"] == [("image", (48, 64, 3))] * 2  # every other cycle
