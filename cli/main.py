"""The ``twinarm`` console script: ``twinarm <command> [key=value ...]``.

Every command is a module ``cli/cmd_<name>.py`` (``_`` becomes ``-`` on the command line) with a
one-line ``HELP`` and either

* a dataclass ``Config`` (the hydra structured-config schema; its defaults are the built-in run) and
  ``run(cfg: Config)``, which receives a real dataclass instance; hydra overrides come from the command line and
  the thin preset ``configs/<name>.yaml`` when present; or
* ``main(argv: list[str]) -> int`` for commands that take positional words (``twinarm dataset info PATH``).

Configuration is resolved here, at the boundary; library code only ever sees typed dataclasses.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import pkgutil
import sys
from pathlib import Path
from types import ModuleType

from twinarm.robot.errors import TwinarmError

CONFIG_DIR_ENV = "TWINARM_CONFIG_DIR"


def commands() -> dict[str, str]:
    """Command name -> module name, discovered from ``cli/cmd_*.py``."""
    import twinarm.cli as pkg

    found = {}
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("cmd_"):
            found[info.name[4:].replace("_", "-")] = f"twinarm.cli.{info.name}"
    return dict(sorted(found.items()))


def config_dir() -> Path | None:
    """Where the YAML presets live: ``$TWINARM_CONFIG_DIR``, else ``configs/`` of the source checkout."""
    env = os.environ.get(CONFIG_DIR_ENV)
    if env:
        return Path(env)
    candidate = Path(__file__).resolve().parents[1] / "configs"
    return candidate if candidate.is_dir() else None


def _usage() -> str:
    lines = ["usage: twinarm <command> [key=value ...]", "", "commands:"]
    for name, module in commands().items():
        try:
            help_text = getattr(importlib.import_module(module), "HELP", "")
        except Exception as exc:  # noqa: BLE001 - a broken optional command must not hide the others
            help_text = f"(unavailable: {type(exc).__name__}: {exc})"
        lines.append(f"  {name:<12} {help_text}")
    lines += ["", "Run `twinarm <command> --help` to see a command's keys and defaults."]
    return "\n".join(lines)


def _field_lines(config: object, prefix: str = "") -> list[str]:
    """``key=default`` lines of a config dataclass (or its class), nested dataclasses flattened with dots."""
    if isinstance(config, type):
        config = config()
    lines = []
    for f in dataclasses.fields(config):
        if f.name == "defaults":
            continue
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            lines += _field_lines(value, prefix + f.name + ".")
        else:
            lines.append(f"  {prefix}{f.name}={value!r}")
    return lines


def compose(name: str, schema: type, overrides: list[str]) -> object:
    """Compose ``schema`` + ``configs/<name>.yaml`` + ``overrides`` and return a dataclass instance."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.config_store import ConfigStore
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    schema_name = f"{name.replace('-', '_')}_schema"
    ConfigStore.instance().store(name=schema_name, node=schema)
    cdir = config_dir()
    preset = cdir / f"{name.replace('-', '_')}.yaml" if cdir else None
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(cdir or Path.cwd()), version_base=None):
        config_name = preset.stem if preset is not None and preset.is_file() else schema_name
        cfg = hydra_compose(config_name=config_name, overrides=overrides)
    return OmegaConf.to_object(cfg)


def _explain_config_error(name: str, schema: type, exc: Exception) -> str:
    from twinarm.cli.checks import type_error_message

    typed = type_error_message(schema, exc)
    if typed is not None:
        return f"twinarm {name}: invalid configuration: {typed}"
    valid = "\n".join(_field_lines(schema))
    return f"twinarm {name}: invalid configuration: {exc}\nvalid keys (with defaults):\n{valid}"


def run_command(name: str, argv: list[str]) -> int:
    """Run command ``name`` with its arguments; returns the process exit code."""
    available = commands()
    if name not in available:
        print(f"twinarm: unknown command {name!r}; valid commands: {', '.join(available)}", file=sys.stderr)
        return 2
    module: ModuleType = importlib.import_module(available[name])
    if hasattr(module, "main"):
        return int(module.main(argv) or 0)
    schema = module.Config
    if argv and argv[0] in ("-h", "--help"):
        print(f"twinarm {name}: {getattr(module, 'HELP', '')}\nkeys (with defaults):")
        print("\n".join(_field_lines(schema)))
        return 0
    bad = [a for a in argv if "=" not in a]
    if bad:
        print(f"twinarm {name}: arguments must be key=value overrides, got {bad}", file=sys.stderr)
        print("\n".join(_field_lines(schema)), file=sys.stderr)
        return 2
    from twinarm.cli.checks import unknown_added_keys

    unknown = unknown_added_keys(schema, argv)
    if unknown:
        print(f"twinarm {name}: unknown key(s) {unknown}; valid keys (with defaults):", file=sys.stderr)
        print("\n".join(_field_lines(schema)), file=sys.stderr)
        return 2
    try:
        cfg = compose(name, schema, argv)
    except Exception as exc:  # hydra/omegaconf raise many types; all mean a bad override or preset
        if isinstance(exc, TwinarmError):
            raise
        print(_explain_config_error(name, schema, exc), file=sys.stderr)
        return 2
    validate = getattr(cfg, "validate", None)
    if callable(validate):  # value checks of the command's Config (ranges, choices): ConfigError names the key
        validate()
    module.run(cfg)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if len(args) > 1 and f"{args[0]}-{args[1]}" in commands():  # `twinarm calibrate camera` = `calibrate-camera`
        args = [f"{args[0]}-{args[1]}", *args[2:]]
    try:
        return run_command(args[0], args[1:])
    except TwinarmError as exc:
        print(f"twinarm {args[0]}: error: {exc}", file=sys.stderr)
        for note in getattr(exc, "__notes__", ()):  # e.g. a torque release that failed on the way out
            print(f"twinarm {args[0]}: note: {note}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"twinarm {args[0]}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
