from __future__ import annotations

import os
import pty

from twinarm.robot.keyboard import EpisodeEvent, EpisodeKeys, TerminalKeys, decode_keys


def test_decode_printables_arrows_and_escape() -> None:
    keys, rest = decode_keys(b"ab\x1b[C\x1b[D\x1bq\r")
    assert keys == ["a", "b", "right", "left", "esc", "q", "enter"] and rest == b""


def test_partial_escape_sequence_waits_for_the_rest() -> None:
    keys, rest = decode_keys(b"x\x1b[")
    assert keys == ["x"] and rest == b"\x1b["
    keys, rest = decode_keys(rest + b"A")
    assert keys == ["up"]


def test_terminal_keys_on_a_real_pty_restores_the_mode() -> None:
    import termios

    master, slave = pty.openpty()
    try:
        before = termios.tcgetattr(slave)
        with TerminalKeys(slave) as keys:
            assert termios.tcgetattr(slave)[3] & termios.ICANON == 0  # cbreak: no line buffering
            os.write(master, b"n\x1b[D")
            controls = EpisodeKeys(keys)
            import time

            time.sleep(0.05)
            assert controls.events() == [EpisodeEvent.NEXT, EpisodeEvent.RERECORD]
            assert controls.events() == []
        assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)


def test_pipe_input_is_read_without_a_terminal() -> None:
    r, w = os.pipe()
    try:
        os.write(w, b"q")
        with TerminalKeys(r) as keys:
            assert EpisodeKeys(keys).events() == [EpisodeEvent.STOP]
    finally:
        os.close(r)
        os.close(w)
