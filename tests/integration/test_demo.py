"""The newcomer's first command: `gremienbot demo` shows a real conversation."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.synapse


def test_demo_runs_a_conversation_on_a_throwaway_homeserver_and_cleans_up() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    out = proc.stdout
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "anna │ !hilfe" in out
    assert "gremienbot │ gremienbot – Befehle" in out
    assert "anna │ !verabredung Entwurf Bildungsbericht" in out
    assert "Verabredung #1" in out
    assert "#1 ist erledigt" in out
    assert "Traceback" not in proc.stderr
    assert "cleaning up" in out
