"""Service circles and coverage: who lives inside / outside them, and where the gaps are."""
