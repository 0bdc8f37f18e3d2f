"""The security tests' world (tests/world.py): one real small campaign seen by six actors."""

from __future__ import annotations

from tests.world import ANNOTATOR, OTHER_ANNOTATOR, World

__all__ = ["ANNOTATOR", "OTHER_ANNOTATOR", "World"]
