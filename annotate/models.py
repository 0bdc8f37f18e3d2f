"""The annotation domain: campaigns, ground truth, submissions, work and ratings."""

from __future__ import annotations

import functools
import operator
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy

from annotate.rubric import ANSWERS_BY_SCORE, SCORES

SCORE_RANGE = Q(score__gte=min(SCORES)) & Q(score__lte=max(SCORES))


class CampaignState(models.TextChoices):
    DRAFT = "draft"
    OPEN = "open"
    LOCKED = "locked"
    PUBLISHED = "published"


class PracticePassMode(models.TextChoices):
    """What makes a practice answer right."""

    EXACT = "exact", "exact score"
    WITHIN_ONE = "within_one", "within one point"


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
    # Quality control before and during the work (annotate/services/quality.py).
    practice_pass_count = models.PositiveSmallIntegerField(
        default=0,
        help_text="Practice answers that must be right to pass (e.g. 4 of 5); 0: all of them. "
        "Without practice examples no practice round is asked for.",
    )
    practice_pass_mode = models.CharField(
        max_length=16,
        choices=PracticePassMode.choices,
        default=PracticePassMode.EXACT,
        help_text="What makes a practice answer right: the exact score, or one point off at most.",
    )
    gold_every = models.PositiveSmallIntegerField(
        default=0,
        help_text="One gold clip (known score, blind) per this many clips of real work in each "
        "annotator's queue; 0: no gold clip.",
    )
    # Quality review (evaluation/scoring/reliability.py): the rules that flag a rater, and
    # the disagreement that sends a clip to adjudication.
    reliability_min_clips = models.PositiveSmallIntegerField(
        default=5,
        help_text=gettext_lazy(
            "A rater is flagged fast, disagrees or straight_line only on at least this "
            "many rated clips: fewer say too little."
        ),
    )
    flag_fast_ratio = models.FloatField(
        default=1.0,
        help_text=gettext_lazy(
            "fast: the rater's median server-measured time per clip is below this "
            "multiple of the pair's duration (1.0: less than one viewing)."
        ),
    )
    flag_min_kappa = models.FloatField(
        default=0.4,
        help_text=gettext_lazy(
            "disagrees: quadratic-weighted kappa with the consensus of the other raters below this."
        ),
    )
    flag_straight_line_share = models.FloatField(
        default=0.8,
        help_text=gettext_lazy(
            "straight_line: the rater's most used score is at least this share of their ratings."
        ),
    )
    flag_min_gold_accuracy = models.FloatField(
        default=0.7,
        help_text=gettext_lazy(
            "gold: the share of gold clips the rater scored exactly right is below this."
        ),
    )
    flag_gold_min_clips = models.PositiveSmallIntegerField(
        default=3,
        help_text=gettext_lazy("gold: judged only on at least this many rated gold clips."),
    )
    adjudication_range = models.PositiveSmallIntegerField(
        default=2,
        help_text=gettext_lazy(
            "A clip whose ratings span at least this many points (highest minus lowest) "
            "goes to adjudication."
        ),
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
            models.CheckConstraint(
                condition=Q(reliability_min_clips__gte=1)
                & Q(flag_gold_min_clips__gte=1)
                & Q(flag_fast_ratio__gte=0)
                & Q(flag_min_kappa__gte=-1)
                & Q(flag_min_kappa__lte=1)
                & Q(flag_straight_line_share__gte=0)
                & Q(flag_straight_line_share__lte=1)
                & Q(flag_min_gold_accuracy__gte=0)
                & Q(flag_min_gold_accuracy__lte=1),
                name="campaign_flag_thresholds_range",
            ),
            models.CheckConstraint(
                condition=Q(adjudication_range__gte=1) & Q(adjudication_range__lte=3),
                name="campaign_adjudication_range",
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


def _is_chinese(language: str | None) -> bool:
    """Whether a language code (e.g. zh-hans, zh-cn, zh) reads Simplified Chinese here."""
    return (language or "").lower().startswith("zh")


class UserPreference(models.Model):
    """A person's own settings, kept on the server so that they follow them to any browser."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference"
    )
    language = models.CharField(
        max_length=16,
        choices=Guideline.Language.choices,
        blank=True,
        help_text="The interface language; empty: the browser's (Accept-Language).",
    )

    def __str__(self) -> str:
        return f"{self.user} ({self.language or 'browser language'})"


class Task(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tasks")
    key = models.CharField(max_length=64, help_text="As in the data layout, e.g. task3.")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200, blank=True, help_text="A short name, e.g. Banana.")
    instruction = models.TextField(
        blank=True, help_text="What the robot should do, as annotators read it."
    )
    # The same in Simplified Chinese. Each reader is shown the text in their language,
    # and the other one where it is empty, so a task written in one language only reads.
    title_zh_hans = models.CharField(
        max_length=200, blank=True, help_text="The title in Simplified Chinese."
    )
    instruction_zh_hans = models.TextField(
        blank=True, help_text="The instruction in Simplified Chinese."
    )

    class Meta:
        ordering = ["campaign", "number"]
        constraints = [models.UniqueConstraint(fields=["campaign", "key"], name="task_unique_key")]

    def __str__(self) -> str:
        return self.key

    def title_in(self, language: str | None = None) -> str:
        """The title in `language` (by default the active one), else in the other language."""
        return self._text_in(self.title, self.title_zh_hans, language)

    def instruction_in(self, language: str | None = None) -> str:
        """The instruction in `language` (by default the active one), else in the other one."""
        return self._text_in(self.instruction, self.instruction_zh_hans, language)

    @property
    def localized_title(self) -> str:
        return self.title_in()

    @property
    def localized_instruction(self) -> str:
        return self.instruction_in()

    @staticmethod
    def _text_in(english: str, chinese: str, language: str | None) -> str:
        if _is_chinese(language or get_language()):
            return chinese or english
        return english or chinese


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
    # Why the served copy could not be made: a notice, {"code": ..., "params": {...}}, said
    # in the reader's language by annotate.notice_text ("" when none; older rows: English).
    error = models.JSONField(default=str, blank=True)
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
    # A member of the team before the window closes, or an organizer (at any time while
    # the campaign takes submissions): the team portal says which.
    final_chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

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

    class Meta:
        ordering = ["submission", "episode"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "episode"], name="clip_unique_episode"),
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
    # Why the import failed as a whole: a notice, like the reasons in `report` (see
    # annotate.notice_text); "" when it did not fail; older rows: an English sentence.
    error = models.JSONField(default=str, blank=True)
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
    extra_rater = models.BooleanField(
        default=False,
        help_text="One more rater asked for by adjudication: beyond the cell's planned raters, "
        "and never topped up by the planner.",
    )
    gold = models.BooleanField(
        default=False,
        help_text="A check with a known score (a gold QualityExample), inserted blind by the "
        "planner: its rating never counts for a team. Never shown to the annotator.",
    )
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


# The rubric table as a row check: each score with the answers its branch asks (the
# question off the branch is not checked). Built from the one table, in its order, so the
# constraint's migration state is that of the table.
RUBRIC_CONSISTENT = functools.reduce(
    operator.or_,
    (Q(score=answers.score, **answers.asked()) for answers in ANSWERS_BY_SCORE.values()),
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
    marks = models.JSONField(
        default=list,
        blank=True,
        help_text='Break points on the generated clip: [{"t": seconds, "label": name}], '
        "sorted by time (annotate/marks.py).",
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
    marks = models.JSONField(default=list, blank=True, help_text="The break points as revised.")
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


class RaterExclusion(models.Model):
    """A rater's ratings left out of a campaign's results, all or from a moment on.

    Nothing is deleted: the ratings stay, and the leaderboard, the exports and the agreement
    report leave them out while the exclusion is active (not lifted). A rating is excluded
    when its rater has an active exclusion whose ``since`` is empty or not after the
    rating's last change (``Rating.updated_at``: the score that counts is the one stored
    then). Lifting records who, when and why; excluding again makes a new row.
    """

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="rater_exclusions"
    )
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rater_exclusions"
    )
    since = models.DateTimeField(
        null=True, blank=True, help_text="Ratings last changed from this moment; empty: all."
    )
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    lift_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["campaign", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "annotator"],
                condition=Q(lifted_at__isnull=True),
                name="exclusion_one_active_per_rater",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="exclusion_reason_given"),
            models.CheckConstraint(
                condition=Q(lifted_at__isnull=True) | ~Q(lift_reason=""),
                name="exclusion_lift_reason_given",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.annotator} excluded from {self.campaign}"

    @property
    def active(self) -> bool:
        return self.lifted_at is None


class AdjudicationAction(models.Model):
    """One organizer action on a clip of the adjudication queue: who, when, what and why.

    ``extra_rater``: one more rater was asked (``assignment``); ``decision``: the organizer
    decided ``score``; ``withdrawal``: the clip's last decision was withdrawn. The newest
    decision or withdrawal of a clip says whether a decided score counts; how it enters the
    protocol's counts is written in docs/quality-review.md. Rows are only ever added.
    """

    class Kind(models.TextChoices):
        EXTRA_RATER = "extra_rater"
        DECISION = "decision"
        WITHDRAWAL = "withdrawal"

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="adjudication_actions"
    )
    clip = models.ForeignKey(Clip, on_delete=models.CASCADE, related_name="adjudication_actions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)
    assignment = models.OneToOneField(
        Assignment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="adjudication_action",
        help_text="The extra rater's assignment.",
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["campaign", "-at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="decision") & SCORE_RANGE & ~Q(reason=""))
                | (Q(kind="withdrawal") & Q(score__isnull=True) & ~Q(reason=""))
                | (Q(kind="extra_rater") & Q(score__isnull=True)),
                name="adjudication_action_consistent",
            ),
        ]
        indexes = [models.Index(fields=["clip", "kind", "at"], name="adjudication_clip_kind_at")]

    def __str__(self) -> str:
        return f"{self.kind} on clip {self.clip_id}"


class ProblemReport(models.Model):
    """An annotator's report that a pair is broken, instead of a rating.

    While a clip has an open report it is handed out to nobody (its unrated assignments
    wait, the planner and adjudication give it to no one new) and it is listed on the
    organizer's adjudication page. The organizer resolves it: ``fixed`` hands the clip
    out again (its unrated work starts afresh), ``excluded`` keeps it out of rating.
    Resolving one report resolves every open report of the same clip; reopening a
    resolution opens those reports again. ``status`` and the ``resolved_*`` fields say
    where the report stands now; every resolution and reopening is kept, with who, when
    and why, in :class:`ProblemReportEvent`.
    """

    class Reason(models.TextChoices):
        DOES_NOT_PLAY = "does_not_play", gettext_lazy("does not play")
        WRONG_REFERENCE = "wrong_reference", gettext_lazy("wrong reference")
        BLACK_FRAMES = "black_frames", gettext_lazy("black frames")
        OTHER = "other", gettext_lazy("other (say what)")

    class Status(models.TextChoices):
        OPEN = "open"
        FIXED = "fixed"
        EXCLUDED = "excluded"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="problem_reports")
    clip = models.ForeignKey(Clip, on_delete=models.CASCADE, related_name="problem_reports")
    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="problem_reports"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="problem_reports"
    )
    reason = models.CharField(max_length=32, choices=Reason.choices)
    text = models.TextField(blank=True, help_text="The annotator's own words.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution_note = models.TextField(blank=True)

    class Meta:
        ordering = ["campaign", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"],
                condition=Q(status="open"),
                name="problem_report_one_open_per_assignment",
            ),
            models.CheckConstraint(
                condition=~Q(reason="other") | ~Q(text=""), name="problem_report_other_explained"
            ),
            models.CheckConstraint(
                condition=(Q(status="open") & Q(resolved_at__isnull=True))
                | (Q(status__in=["fixed", "excluded"]) & Q(resolved_at__isnull=False)),
                name="problem_report_resolved_when_closed",
            ),
        ]
        indexes = [models.Index(fields=["clip", "status"], name="problem_report_clip_status")]

    def __str__(self) -> str:
        return f"{self.reason} on clip {self.clip_id} ({self.status})"


class ProblemReportEvent(models.Model):
    """One step of a problem report after it was made: resolved (fixed or excluded) or
    reopened, with who, when and the note (for a reopening, the reason). Rows are only
    ever added, so a report's whole history stays readable after it is reopened."""

    class Kind(models.TextChoices):
        FIXED = "fixed"
        EXCLUDED = "excluded"
        REOPENED = "reopened"

    report = models.ForeignKey(ProblemReport, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    note = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["report", "at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="reopened") | ~Q(note=""), name="problem_event_reopen_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"report {self.report_id} {self.kind} at {self.at:%Y-%m-%d %H:%M}"


class QualityExample(models.Model):
    """A clip of the campaign whose true score the organizers know.

    ``practice``: rated in the practice round before any real work, and shown with its
    score and explanation right after each answer. ``gold``: inserted blind in the
    annotators' queues (``Assignment.gold``), to measure them; a gold rating never counts
    for a team. A clip is one kind or the other, never both: a practice answer is shown.
    """

    class Kind(models.TextChoices):
        PRACTICE = "practice"
        GOLD = "gold"

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="quality_examples"
    )
    clip = models.ForeignKey(Clip, on_delete=models.CASCADE, related_name="quality_examples")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    score = models.PositiveSmallIntegerField(help_text="The true score, 0-3.")
    explanation = models.TextField(
        blank=True, help_text='Why, in a sentence: "the banana deforms on the way".'
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["campaign", "kind", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "clip"], name="quality_example_unique_clip"
            ),
            models.CheckConstraint(condition=SCORE_RANGE, name="quality_example_score_range"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} clip {self.clip_id}: {self.score}"


class PracticeAttempt(models.Model):
    """One annotator's run through a campaign's practice set.

    The newest attempt that was not reset is the one that counts; an organizer's reset
    (a retry) closes it, keeping it and its answers. The set and the pass mark are fixed
    when the attempt starts, so the annotator is judged on what they were told.
    """

    Mode = PracticePassMode

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="practice_attempts"
    )
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_attempts"
    )
    examples = models.JSONField(
        default=list, help_text="Ids of the practice examples, in the order they are shown."
    )
    pass_count = models.PositiveSmallIntegerField(help_text="Right answers needed to pass.")
    pass_mode = models.CharField(max_length=16, choices=Mode.choices)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True, help_text="Empty until finished.")
    reset_at = models.DateTimeField(null=True, blank=True)
    reset_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["campaign", "annotator", "-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "annotator"],
                condition=Q(reset_at__isnull=True),
                name="practice_attempt_one_current",
            ),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True, passed__isnull=True)
                | Q(finished_at__isnull=False, passed__isnull=False),
                name="practice_attempt_passed_when_finished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.annotator} practice in {self.campaign} ({self.started_at:%Y-%m-%d %H:%M})"


class PracticeAnswer(models.Model):
    """One practice answer, with the true score and explanation as they were shown."""

    attempt = models.ForeignKey(PracticeAttempt, on_delete=models.CASCADE, related_name="answers")
    example = models.ForeignKey(
        QualityExample, null=True, blank=True, on_delete=models.SET_NULL, related_name="answers"
    )
    clip = models.ForeignKey(Clip, on_delete=models.CASCADE, related_name="+")
    step = models.PositiveSmallIntegerField(help_text="Place in the attempt's set, from 1.")
    score = models.PositiveSmallIntegerField(help_text="The annotator's answer.")
    true_score = models.PositiveSmallIntegerField()
    explanation = models.TextField(blank=True)
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["attempt", "step"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "step"], name="practice_answer_unique_step"),
            models.CheckConstraint(condition=SCORE_RANGE, name="practice_answer_score_range"),
            models.CheckConstraint(
                condition=Q(true_score__gte=0) & Q(true_score__lte=3),
                name="practice_answer_true_score_range",
            ),
        ]

    def __str__(self) -> str:
        return f"attempt {self.attempt_id} step {self.step}: {self.score} ({self.true_score})"

    @property
    def exact(self) -> bool:
        return self.score == self.true_score

    @property
    def within_one(self) -> bool:
        return abs(self.score - self.true_score) <= 1
