"""Thin Click commands; each module exposes ``COMMANDS``, the commands it adds to the group."""
