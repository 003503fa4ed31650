"""Switchboard: the thin layer that wires the packages into a command and a node."""
