"""``python -m landrelease`` runs the command line."""

from landrelease.cli import main

main()
