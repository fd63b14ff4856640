"""`twinarm emulate` serves a bus in its own process until SIGTERM, then prints a summary."""

from __future__ import annotations

import signal
import subprocess
import sys

from twinarm.cli.cmd_emulate import Config, emulator_config
from twinarm.hardware.feetech.bus import FeetechBus
from twinarm.hardware.feetech.tables import SCS0009


def test_emulate_command_serves_until_sigterm(tmp_path) -> None:
    link = tmp_path / "so101"
    cmd = [sys.executable, "-m", "twinarm.cli.main", "emulate", f"link={link}", "faults.silent_ids=[6]"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("serving"):
                break
        assert f"port: {link}" in "".join(lines), lines
        with FeetechBus(str(link), timeout_s=0.01, retries=0) as bus:
            assert bus.scan(range(1, 8)) == dict.fromkeys(range(1, 6), 777)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "served" in out and "requests" in out
    assert not link.exists()


def test_ids_and_model_override_the_robot() -> None:
    cfg = emulator_config(Config(ids=[3, 4], model="scs0009", link=""))
    assert [(s.id, s.model, s.position) for s in cfg.servos] == [(3, "scs0009", 512), (4, "scs0009", 512)]
    assert cfg.link is None and SCS0009.resolution == 1024
