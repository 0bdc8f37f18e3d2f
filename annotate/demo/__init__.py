"""A synthetic, seeded evaluation campaign for demos and tests (numpy + PyAV, no Django)."""

from __future__ import annotations

from annotate.demo.render import (
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
from annotate.demo.scene import CAMERAS, OUTCOMES, DemoRenderError

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
