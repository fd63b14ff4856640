"""The Homunculus teleop devices (HopeJR's exoskeleton arm and Hall-sensor glove): the USB-serial stream format
as data (``stream``), the driver (``device``), per-sensor calibration and its file, the sensor -> HopeJR joint maps
(``joint_map``) and a pty emulator of each device (``emulator``, ``motion``).

``twinarm teleop source=homunculus homunculus.glove=/dev/ttyACM0``; ``twinarm emulate device=homunculus_glove``;
``twinarm calibrate-device device=homunculus_glove port=/dev/ttyACM0``.
"""
