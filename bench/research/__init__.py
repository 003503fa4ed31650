"""Experiments kept for the record and run from the benches; the shipped packages never
import them (docs/scheduling-experiments.md has what they showed)."""
