"""Hardware backends: Feetech and Dynamixel serial buses, per-robot motor tables, calibration, cameras, an emulator.

Import what you need from the submodules (nothing heavy is imported here):

* ``hardware.robots``: :class:`FeetechRobot`, ``so101_follower(port, ...)``, ``so101_leader(port, ...)``
* ``hardware.motors``: arm descriptions as data (``SO101_FOLLOWER``, ``SO101_LEADER``); ``hardware.koch``
  (``KOCH_FOLLOWER``, ``KOCH_LEADER``) and ``hardware.leap`` (``LEAP_HAND_DESC``) on Dynamixel buses
* ``hardware.buses``: ``bus_for(arm, port)``, the driver of an arm's protocol
* ``hardware.hand``: the Amazing Hand (``AMAZING_HAND_RIGHT``/``_LEFT``, ``amazing_hand(port, side, ...)``)
* ``hardware.joint_map``: ticks <-> joint radians (calibration, then the motor <-> joint transmission)
* ``hardware.calibration`` / ``calibration_file`` / ``calibration_io``: ticks <-> radians, the file, the bus side
* ``hardware.cameras``: :class:`OpenCVCamera`
* ``hardware.feetech``, ``hardware.dynamixel``: protocol, control tables and bus of each servo family, on the
  shared ``hardware.serial_bus`` / ``hardware.registers`` / ``hardware.bus_diagnostics``
* ``hardware.ports``, ``hardware.emulator``: ports and the emulated bus (either family)

This package never imports ``sim`` or ``policies`` and never needs torch.
"""
