"""The ``twinarm`` command line: one hydra entry point per command (``cli/cmd_<name>.py``)."""
