"""Dynamixel protocol 2.0 servos: framing (CRC-16, byte stuffing), instructions, X-series tables, the DynamixelBus."""
