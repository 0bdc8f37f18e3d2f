"""A synthetic, seeded evaluation campaign for demos, tests and benches.

Kept apart from the product (import-linter forbids annotate and evaluation to import it,
but for the demo_data command): `render` and `scene` draw the footage (numpy + PyAV, no
Django), `campaign` brings it in through the real ingest, and `truth` reads back the
true labels that stay beside the footage, never in the production schema.
"""

from __future__ import annotations

from demo.render import (
    BROKEN_KINDS,
    CODECS,
    DEFAULT_TEAMS,
    SPLIT,
    SUB_KINDS,
    CampaignPlan,
    DemoManifest,
    RenderedPair,
    TeamSpec,
    applicable_sub_kinds,
    campaign_plan,
    render_demo,
    render_pair,
    write_video,
)
from demo.scene import CAMERAS, OUTCOMES, DemoRenderError

__all__ = [
    "BROKEN_KINDS",
    "CAMERAS",
    "CODECS",
    "DEFAULT_TEAMS",
    "OUTCOMES",
    "SPLIT",
    "SUB_KINDS",
    "CampaignPlan",
    "DemoManifest",
    "DemoRenderError",
    "RenderedPair",
    "TeamSpec",
    "applicable_sub_kinds",
    "campaign_plan",
    "render_demo",
    "render_pair",
    "write_video",
]
