"""factory_boy factories for rows whose media content does not matter to the test.

Tests that need real, playable media import real files through the services instead
(tests/videos.py, or the demo renderer).
"""

from __future__ import annotations

import hashlib

import factory
from django.contrib.auth import get_user_model

from annotate.models import (
    Assignment,
    Campaign,
    Clip,
    Episode,
    MediaAsset,
    Rating,
    Submission,
    Task,
    Team,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-test-123")


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    slug = factory.Sequence(lambda n: f"campaign-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())
    state = Campaign.State.OPEN  # taking ratings, as most tests need


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    campaign = factory.SubFactory(CampaignFactory)
    number = factory.Sequence(lambda n: n + 1)
    key = factory.LazyAttribute(lambda o: f"task{o.number}")


class MediaAssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MediaAsset

    sha256 = factory.Sequence(lambda n: hashlib.sha256(str(n).encode()).hexdigest())
    original = factory.LazyAttribute(lambda o: f"assets/{o.sha256[:2]}/{o.sha256}/original.mp4")
    playable = factory.LazyAttribute(lambda o: o.original)
    size_bytes = 1000
    codec = "h264"
    pix_fmt = "yuv420p"
    width = 672
    height = 224
    fps = 24.0
    frame_count = 72
    duration_s = 3.0
    views = 3
    status = MediaAsset.Status.READY


class EpisodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Episode

    task = factory.SubFactory(TaskFactory)
    number = factory.Sequence(lambda n: n)
    key = factory.LazyAttribute(lambda o: f"episode_{o.number}")
    reference = factory.SubFactory(MediaAssetFactory)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"team-{n}")


class SubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Submission

    team = factory.SubFactory(TeamFactory)
    version = 1


class ClipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clip

    submission = factory.SubFactory(SubmissionFactory)
    episode = factory.SubFactory(
        EpisodeFactory, task__campaign=factory.SelfAttribute("...submission.team.campaign")
    )
    asset = factory.SubFactory(MediaAssetFactory)
    source_name = factory.LazyAttribute(lambda o: f"{o.episode.task.key}/{o.episode.key}.mp4")


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    clip = factory.SubFactory(ClipFactory)
    campaign = factory.LazyAttribute(lambda o: o.clip.submission.team.campaign)
    annotator = factory.SubFactory(UserFactory)


_ANSWERS = {
    3: (True, True, None),
    2: (True, False, None),
    1: (False, None, True),
    0: (False, None, False),
}


class RatingFactory(factory.django.DjangoModelFactory):
    """A rating whose rubric answers agree with its score."""

    class Meta:
        model = Rating

    assignment = factory.SubFactory(AssignmentFactory)
    clip = factory.LazyAttribute(lambda o: o.assignment.clip)
    annotator = factory.LazyAttribute(lambda o: o.assignment.annotator)
    score = 3
    final_state = factory.LazyAttribute(lambda o: _ANSWERS.get(o.score, _ANSWERS[3])[0])
    clean = factory.LazyAttribute(lambda o: _ANSWERS.get(o.score, _ANSWERS[3])[1])
    motion = factory.LazyAttribute(lambda o: _ANSWERS.get(o.score, _ANSWERS[3])[2])
