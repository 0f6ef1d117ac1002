"""Chip descriptions and cost models, as data (TOML) with a source for every number.

The float reference target needs no chip; hardware targets add their descriptions here.
"""
