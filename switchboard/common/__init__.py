"""Shared vocabulary every package may import: no project imports of its own."""
