"""Feetech SCS/STS servos: packet codec, control tables, the FeetechBus."""
