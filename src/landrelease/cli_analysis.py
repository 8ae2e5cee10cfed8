"""Analysis commands: forecast, prioritise, classify, residual."""

from __future__ import annotations
