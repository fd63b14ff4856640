"""Command-line entry points: the only layer that composes hardware, sim and policies."""
