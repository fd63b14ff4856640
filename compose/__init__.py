"""The composition layer: the one place that imports the contract, hardware, sim and policies together.

The model registry (:mod:`twinarm.compose.registry`), robot backends (sim | emulator | real port), hardware in
the loop (MuJoCo physics behind the servo emulator), action sources by name and the episode harnesses the CLI
commands share. Library code; the hydra entry points live in :mod:`twinarm.cli`.
"""
