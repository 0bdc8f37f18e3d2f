"""Judge configurations, runs and verdicts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from annotate.models import Campaign, Clip


class JudgeVersion(models.Model):
    """A judge as configured at one point: a settings entry, or a calibrated variant of one."""

    name = models.CharField(max_length=100, help_text="The key in settings.JUDGES.")
    version = models.CharField(max_length=100)
    options = models.JSONField(
        default=dict, blank=True, help_text="Overrides of the settings OPTIONS."
    )
    calibrated_on = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL)
    metrics = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="judge_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"


class JudgeRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        CANCELLED = "cancelled"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="judge_runs")
    judge = models.ForeignKey(JudgeVersion, on_delete=models.PROTECT, related_name="runs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    chunk_size = models.PositiveIntegerField(default=8)
    clip_ids = models.JSONField(
        default=list, blank=True, help_text="The clips the run covers, fixed when it is created."
    )
    dispatch = models.PositiveIntegerField(
        default=0,
        help_text="Bumped at every start or resume; chunks queued by an earlier one stand down.",
    )
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.judge} on {self.campaign} ({self.status})"


class Verdict(models.Model):
    run = models.ForeignKey(JudgeRun, on_delete=models.CASCADE, related_name="verdicts")
    clip = models.ForeignKey(Clip, on_delete=models.CASCADE, related_name="verdicts")
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    expected_score = models.FloatField(null=True, blank=True)
    final_state = models.FloatField(null=True, blank=True)
    clean = models.FloatField(null=True, blank=True)
    motion = models.FloatField(null=True, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    features = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run", "clip"]
        constraints = [
            models.UniqueConstraint(fields=["run", "clip"], name="verdict_unique_clip"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | (Q(score__gte=0) & Q(score__lte=3)),
                name="verdict_score_range",
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} clip {self.clip_id}: {self.score}"
