"""Hydra presets (thin YAML over the commands' structured configs), shipped as ``twinarm.configs`` data."""
