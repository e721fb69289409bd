#!/usr/bin/env python3
"""Runs a command in a pseudo-terminal, as a user at a terminal would, and presses Ctrl-C.

    pty-run.py SPEC_JSON -- COMMAND ARG...

SPEC_JSON: {"presses": [{"after": "<regex on the output so far>", "delay": seconds,
"key": "\u0003"}, ...], "timeout": seconds, "cols": 120}. Each press waits for its regex (on
everything the program wrote to the terminal, decoded as Latin-1) to match after the previous
press, then for its delay, then writes its key to the terminal (Ctrl-C: the terminal sends the
foreground process SIGINT, exactly as a keyboard does).

Prints one JSON object: {"exit": code, "signal": number or null, "output": the terminal output
(Latin-1), "pressed": [seconds since start of each press], "ended": seconds since start}.
"""
import json
import os
import pty
import re
import select
import signal
import struct
import sys
import time

try:
    import fcntl
    import termios
except ImportError:  # not a POSIX system
    fcntl = termios = None


def main() -> None:
    spec = json.loads(sys.argv[1])
    argv = sys.argv[sys.argv.index("--") + 1 :]
    start = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm"
        os.execvp(argv[0], argv)
    if fcntl is not None:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, spec.get("cols", 120), 0, 0))
    out = b""
    presses = list(spec.get("presses", []))
    pressed = []
    mark = 0  # output offset the next press's regex looks from
    due = None
    deadline = start + spec.get("timeout", 120)
    status = None
    while True:
        now = time.monotonic()
        if now > deadline:
            os.kill(pid, signal.SIGKILL)
        if presses and due is None and re.search(presses[0]["after"], out[mark:].decode("latin-1")):
            due = now + presses[0].get("delay", 0)
        if presses and due is not None and now >= due:
            os.write(fd, presses[0].get("key", "\u0003").encode("latin-1"))
            pressed.append(round(now - start, 3))
            presses.pop(0)
            mark = len(out)
            due = None
        ready, _, _ = select.select([fd], [], [], 0.01)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                chunk = b""
            if chunk:
                out += chunk
                continue
            got, status = os.waitpid(pid, 0)
            break
        got, st = os.waitpid(pid, os.WNOHANG)
        if got == pid:
            status = st
            # drain what is left
            while True:
                r, _, _ = select.select([fd], [], [], 0.05)
                if not r:
                    break
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            break
    ended = round(time.monotonic() - start, 3)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    print(json.dumps({"exit": code, "signal": sig, "output": out.decode("latin-1"), "pressed": pressed, "ended": ended}))


main()
