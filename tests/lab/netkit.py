"""The small lab of the kernel tests (tests/lab/conftest.py builds it; test_netns.py plans it too):
6 units over 2 aggregation nodes with all three segments present, and the two address ranges."""

from __future__ import annotations

LAB_NETWORK = "198.19.0.0/17"
SPARE_NETWORK = "198.19.128.0/17"
ROWS = [
    ("u0", "a0", ["intranet", "party", "extranet"]),
    ("u1", "a1", ["intranet", "party"]),
    ("u2", "a0", ["intranet", "party"]),
    ("u3", "a1", ["intranet", "extranet"]),
    ("u4", "a0", ["party"]),
    ("u5", "a1", ["intranet", "party"]),
]
