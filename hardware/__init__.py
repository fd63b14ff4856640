"""Hardware backends: Feetech serial buses, per-robot motor tables, calibration, cameras and an emulator.

Import what you need from the submodules (nothing heavy is imported here):

* ``hardware.robots``: :class:`FeetechRobot`, ``so101_follower(port, ...)``, ``so101_leader(port, ...)``
* ``hardware.motors``: arm descriptions as data (``SO101_FOLLOWER``, ``SO101_LEADER``)
* ``hardware.hand``: the Amazing Hand (``AMAZING_HAND_RIGHT``/``_LEFT``, ``amazing_hand(port, side, ...)``)
* ``hardware.joint_map``: ticks <-> joint radians (calibration, then the motor <-> joint transmission)
* ``hardware.calibration`` / ``calibration_file`` / ``calibration_io``: ticks <-> radians, the file, the bus side
* ``hardware.cameras``: :class:`OpenCVCamera`
* ``hardware.feetech``, ``hardware.ports``, ``hardware.emulator``: protocol, bus, ports and the emulated bus

This package never imports ``sim`` or ``policies`` and never needs torch.
"""
