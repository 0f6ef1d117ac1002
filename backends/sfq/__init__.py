"""The superconducting SFQ family: what it runs. Its target (pulse emulation, circuit mapping)
and its number format come with the SFQ backend."""
from snnc.ir import nodes as n
from snnc.target import PLUMBING, Family, NATIVE

# Rate-coded SFQ: pulse-count neurons integrate and fire; the preset models no leak.
# Its mapping (cells, splitter and merger trees) comes with the backend.
FAMILY = Family(kind="sfq", supported={**PLUMBING, n.IF: NATIVE}, mapping=None)
