"""Field data commands: forms (XLSForm) and minefield record templates."""

from __future__ import annotations
