#!/usr/bin/env python3
"""Runs a program with no signal blocked: unblocked.py PROGRAM [ARGS…]

A process the tests start inherits the signal mask of the thread that spawned it, and
the test runner's threads block SIGTERM among others; Foundation's Process does not
reset the mask. A program that does not unblock its signals itself (Alertmanager, a
Python script) then ignores `Child.stop()`'s SIGTERM, or dies oddly. This resets the
mask and becomes PROGRAM (exec: the same PID, so the test still stops it by PID)."""
import os
import signal
import sys

signal.pthread_sigmask(signal.SIG_SETMASK, [])
os.execv(sys.argv[1], sys.argv[1:])
