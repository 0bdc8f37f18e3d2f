"""The annotation domain: campaigns, ground truth, submissions, work and ratings."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

SCORE_RANGE = Q(score__gte=0) & Q(score__lte=3)


class CampaignState(models.TextChoices):
    DRAFT = "draft"
    OPEN = "open"
    LOCKED = "locked"
    PUBLISHED = "published"


class Campaign(models.Model):
    State = CampaignState

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    raters_per_cell = models.PositiveSmallIntegerField(default=3)
    max_clips_per_rater = models.PositiveSmallIntegerField(default=10)
    seed = models.IntegerField(default=0)
    require_full_watch = models.BooleanField(
        default=True, help_text="Scoring unlocks once both clips have played to the end once."
    )
    reclaim_after_minutes = models.PositiveIntegerField(default=30)
    state = models.CharField(
        max_length=16,
        choices=CampaignState.choices,
        default=CampaignState.DRAFT,
        help_text="Draft: set up, import, plan. Open: rating. Locked: no rating, no revision. "
        "Published: results visible to the teams.",
    )
    submissions_open_at = models.DateTimeField(
        null=True, blank=True, help_text="Teams may upload from this moment (empty: at once)."
    )
    submissions_close_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Teams' uploads and choices of a final version are refused from this moment "
        "(empty: no deadline). Organizers can still import.",
    )
    leaderboard_public = models.BooleanField(
        default=False,
        help_text="Once published, the leaderboard is also a public page (no sign-in); "
        "otherwise only the teams see it.",
    )
    teams_may_judge = models.BooleanField(
        default=False,
        help_text="Team members may check a pair of clips against the baseline judge "
        "(its score for their own files only, never the campaign's verdicts).",
    )
    annotators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="annotator_of",
        help_text="The roster the assignment planner draws raters from.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(raters_per_cell__gte=1), name="campaign_raters_positive"
            ),
            models.CheckConstraint(
                condition=Q(max_clips_per_rater__gte=1), name="campaign_cap_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def accepts_ratings(self) -> bool:
        """The one rule for ratings: given and revised only while the campaign is open."""
        return self.state == CampaignState.OPEN


class CampaignStateChange(models.Model):
    """One move of a campaign between states: who, when, from, to and why."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="state_changes")
    from_state = models.CharField(max_length=16, choices=CampaignState.choices)
    to_state = models.CharField(max_length=16, choices=CampaignState.choices)
    reason = models.TextField(blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["campaign", "-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.campaign}: {self.from_state} -> {self.to_state}"


class Guideline(models.Model):
    """The campaign's guideline for annotators (rubric and examples), one per language.

    Plain text with a few Markdown-like marks, rendered escaped: never raw HTML.
    """

    class Language(models.TextChoices):
        EN = "en", "English"
        ZH_HANS = "zh-hans", "简体中文"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="guidelines")
    language = models.CharField(max_length=16, choices=Language.choices, default=Language.EN)
    text = models.TextField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["campaign", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "language"], name="guideline_unique_language"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign} guideline ({self.language})"


class Task(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tasks")
    key = models.CharField(max_length=64, help_text="As in the data layout, e.g. task3.")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200, blank=True, help_text="A short name, e.g. Banana.")
    instruction = models.TextField(
        blank=True, help_text="What the robot should do, as annotators read it."
    )

    class Meta:
        ordering = ["campaign", "number"]
        constraints = [models.UniqueConstraint(fields=["campaign", "key"], name="task_unique_key")]

    def __str__(self) -> str:
        return self.key


class MediaAsset(models.Model):
    """One stored video, content-addressed by the sha256 of its original bytes."""

    class Status(models.TextChoices):
        PENDING = "pending"
        READY = "ready"
        FAILED = "failed"

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sha256 = models.CharField(max_length=64, unique=True)
    original = models.CharField(max_length=255, help_text="Path under MEDIA_ROOT.")
    playable = models.CharField(
        max_length=255, blank=True, help_text="H.264/yuv420p/faststart MP4."
    )
    poster = models.CharField(max_length=255, blank=True)
    size_bytes = models.BigIntegerField()
    codec = models.CharField(max_length=32)
    pix_fmt = models.CharField(max_length=32, blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    fps = models.FloatField()
    frame_count = models.PositiveIntegerField()
    duration_s = models.FloatField()
    views = models.PositiveSmallIntegerField(default=1, help_text="Camera views side by side.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(frame_count__gte=1), name="asset_has_frames"),
            models.CheckConstraint(condition=Q(fps__gt=0), name="asset_fps_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.sha256[:12]} {self.width}x{self.height} {self.frame_count}f"


class Episode(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="episodes")
    key = models.CharField(max_length=64, help_text="As in the data layout, e.g. episode_17.")
    number = models.PositiveIntegerField()
    reference = models.ForeignKey(MediaAsset, on_delete=models.PROTECT, related_name="reference_of")
    in_rated_set = models.BooleanField(
        default=True, help_text="Chosen for rating (same for every team)."
    )
    reference_success = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["task", "number"]
        constraints = [models.UniqueConstraint(fields=["task", "key"], name="episode_unique_key")]

    def __str__(self) -> str:
        return f"{self.task.key}/{self.key}"


class ReferenceReplacement(models.Model):
    """An episode's reference file replaced by an import, before any rating: the old file is kept."""

    episode = models.ForeignKey(
        Episode, on_delete=models.CASCADE, related_name="reference_replacements"
    )
    previous = models.ForeignKey(MediaAsset, on_delete=models.PROTECT, related_name="+")
    replaced_by = models.ForeignKey(MediaAsset, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=255, blank=True, help_text="The upload it came from.")
    replaced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["episode", "replaced_at", "pk"]

    def __str__(self) -> str:
        return f"{self.episode} reference {self.previous_id} -> {self.replaced_by_id}"


class Team(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")
    final_submission = models.ForeignKey(
        "Submission",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The version the team chose to be rated; empty: the newest confirmed one.",
    )
    final_chosen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["campaign", "name"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "name"], name="team_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Submission(models.Model):
    """One upload of a team; the newest confirmed version is the one rated, earlier ones are kept.

    A version that drops episodes the rated one has waits for the organizer's
    confirmation before it is rated (``awaiting_confirmation``).
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="submissions")
    version = models.PositiveIntegerField()
    source = models.CharField(max_length=255, blank=True)
    report = models.JSONField(default=dict, blank=True)
    awaiting_confirmation = models.BooleanField(
        default=False,
        help_text="Drops episodes of the rated version; not rated until an organizer confirms.",
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["team", "-version"]
        get_latest_by = "version"
        constraints = [
            models.UniqueConstraint(fields=["team", "version"], name="submission_unique_version")
        ]

    def __str__(self) -> str:
        return f"{self.team} v{self.version}"


class Clip(models.Model):
    """One generated video of one episode in one submission."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="clips")
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="clips")
    asset = models.ForeignKey(MediaAsset, on_delete=models.PROTECT, related_name="clips")
    source_name = models.CharField(
        max_length=255, help_text="Path inside the upload (organizers only)."
    )
    demo_category = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="True rubric category of a synthetic demo clip; never shown to annotators.",
    )

    class Meta:
        ordering = ["submission", "episode"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "episode"], name="clip_unique_episode"),
            models.CheckConstraint(
                condition=Q(demo_category__isnull=True)
                | (Q(demo_category__gte=0) & Q(demo_category__lte=3)),
                name="clip_demo_category_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.submission} {self.episode}"


class ImportJob(models.Model):
    class Kind(models.TextChoices):
        REFERENCE = "reference"
        SUBMISSION = "submission"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    class Origin(models.TextChoices):
        """Where an import was started; kept in the report under "origin"."""

        PAGE = "page", "page"
        API = "api", "API"
        COMMAND = "command", "command"
        DEMO = "demo", "demo"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="imports")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    team_name = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=500)
    strict = models.BooleanField(default=False)
    allow_drop = models.BooleanField(
        default=False,
        help_text="Make the new version current even if it drops episodes of the rated one.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} import #{self.pk} ({self.status})"

    @property
    def origin(self) -> str:
        return (self.report or {}).get("origin", "")


def opaque_id() -> int:
    """A random positive id below 2**53 (exact as a JavaScript number), drawn independently.

    Annotators see assignment ids (in /rate/<id>/, forms and the API): counted ids would
    follow the order the rows were created in, team by team, and so tell clips' teams apart.
    """
    return secrets.randbelow(2**53 - 1) + 1


class Assignment(models.Model):
    """One annotator's work on one clip."""

    class Status(models.TextChoices):
        PENDING = "pending"
        IN_PROGRESS = "in_progress"
        DONE = "done"

    id = models.BigIntegerField(primary_key=True, default=opaque_id, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="assignments")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    clip = models.ForeignKey(Clip, on_delete=models.CASCADE, related_name="assignments")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    order_key = models.PositiveIntegerField(
        default=0, help_text="Seeded random order within the queue."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["annotator", "order_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["annotator", "clip"], name="assignment_unique_annotator_clip"
            )
        ]
        indexes = [models.Index(fields=["campaign", "annotator", "status"])]

    def __str__(self) -> str:
        return f"{self.annotator} -> clip {self.clip_id} ({self.status})"


RUBRIC_CONSISTENT = (
    Q(score=3, final_state=True, clean=True)
    | Q(score=2, final_state=True, clean=False)
    | Q(score=1, final_state=False, motion=True)
    | Q(score=0, final_state=False, motion=False)
)


class Rating(models.Model):
    """The current rating of an assignment; every change is kept in RatingRevision."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="rating")
    clip = models.ForeignKey(Clip, on_delete=models.CASCADE, related_name="ratings")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ratings"
    )
    score = models.PositiveSmallIntegerField()
    final_state = models.BooleanField(help_text="Final object state matches the reference.")
    clean = models.BooleanField(
        null=True, blank=True, help_text="Action matches, no deformation, plausible physics."
    )
    motion = models.BooleanField(null=True, blank=True, help_text="Arm motion broadly matches.")
    comment = models.TextField(blank=True)
    time_on_page_s = models.FloatField(default=0, help_text="As the page measured it.")
    server_time_s = models.FloatField(
        null=True,
        blank=True,
        help_text="As the server measured it: seconds from the clip's first opening to this "
        "rating being stored.",
    )
    watched_reference = models.FloatField(default=0, help_text="Fraction of the reference played.")
    watched_generated = models.FloatField(
        default=0, help_text="Fraction of the generated clip played."
    )
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # NULL, not "", for no key: NULLs never collide in the unique constraint below.
    idempotency_key = models.CharField(  # noqa: DJ001
        max_length=100,
        null=True,
        blank=True,
        help_text="The client's key for the request that created the rating; a retry with it "
        "returns this rating.",
    )

    class Meta:
        ordering = ["clip", "annotator"]
        constraints = [
            models.UniqueConstraint(
                fields=["clip", "annotator"], name="rating_unique_clip_annotator"
            ),
            # Unique per annotator: a key sent by one annotator never finds another's rating.
            models.UniqueConstraint(
                fields=["annotator", "idempotency_key"], name="rating_unique_idempotency_key"
            ),
            models.CheckConstraint(condition=SCORE_RANGE, name="rating_score_range"),
            models.CheckConstraint(condition=RUBRIC_CONSISTENT, name="rating_rubric_consistent"),
        ]

    def __str__(self) -> str:
        return f"{self.annotator} clip {self.clip_id}: {self.score}"


class RatingRevision(models.Model):
    rating = models.ForeignKey(Rating, on_delete=models.CASCADE, related_name="revisions")
    revision = models.PositiveIntegerField()
    score = models.PositiveSmallIntegerField()
    final_state = models.BooleanField()
    clean = models.BooleanField(null=True, blank=True)
    motion = models.BooleanField(null=True, blank=True)
    comment = models.TextField(blank=True)
    server_time_s = models.FloatField(
        null=True,
        blank=True,
        help_text="Seconds from the clip's first opening to this revision being stored.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["rating", "revision"]
        constraints = [
            models.UniqueConstraint(fields=["rating", "revision"], name="revision_unique_number"),
            models.CheckConstraint(condition=SCORE_RANGE, name="revision_score_range"),
            models.CheckConstraint(condition=RUBRIC_CONSISTENT, name="revision_rubric_consistent"),
        ]

    def __str__(self) -> str:
        return f"rating {self.rating_id} r{self.revision}: {self.score}"


class Invitation(models.Model):
    """One link for a person to set their own password: an invitation or a reset.

    The token itself is never stored: it is Django's password-reset token, which hashes
    the password (so it works once, and a newer link voids the older ones) and expires
    after PASSWORD_RESET_TIMEOUT. This row records who issued it, until when, and
    whether it was used, for the people page and the page an old link lands on.
    """

    class Kind(models.TextChoices):
        INVITE = "invite"
        RESET = "reset"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.INVITE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations_issued",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    emailed = models.BooleanField(default=False)

    class Meta:
        ordering = ["user", "-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user} at {self.created_at:%Y-%m-%d %H:%M}"
