"""Provenance tags and whether a run's writer is still alive."""

import os
import platform

from kerasce.run.provenance import process_tags, provenance_tags, writer_alive
from kerasce.tracking.schema import Tag


def test_versions_backend_and_git_are_recorded():
    tags = provenance_tags()
    assert tags[f"{Tag.VERSION}kerasce"] == "0.1.0" and tags[Tag.KERAS_BACKEND] == "tensorflow"
    assert tags[Tag.GIT_COMMIT]


def test_this_process_is_alive_a_reused_pid_and_a_silent_host_are_not():
    assert writer_alive(process_tags(), now=0)
    assert not writer_alive({**process_tags(), Tag.PID_START: "0"}, now=0)
    assert not writer_alive({Tag.HOST: platform.node(), Tag.PID: "x"}, now=0)
    elsewhere = {Tag.HOST: "elsewhere", Tag.HEARTBEAT: "1000"}
    assert writer_alive(elsewhere, now=1000 + 60) and not writer_alive(elsewhere, now=1000 + 3600)
    assert os.getpid() == process_tags()[Tag.PID]
