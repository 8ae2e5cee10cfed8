"""Risk model commands: risk train, evaluate, predict."""

from __future__ import annotations
