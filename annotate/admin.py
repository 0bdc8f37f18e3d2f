from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from annotate.models import (
    Assignment,
    Campaign,
    CampaignStateChange,
    Clip,
    Episode,
    ImportJob,
    MediaAsset,
    Rating,
    RatingRevision,
    Submission,
    Task,
    Team,
)
from annotate.notice_text import text


class TaskInline(admin.TabularInline):
    model = Task
    extra = 0


class StateChangeInline(admin.TabularInline):
    model = CampaignStateChange
    extra = 0
    readonly_fields = ["from_state", "to_state", "reason", "changed_by", "changed_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # a state changes through the campaign page, which records it


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = [
        "slug",
        "name",
        "raters_per_cell",
        "max_clips_per_rater",
        "state",
        "created_at",
    ]
    list_filter = ["state"]
    prepopulated_fields = {"slug": ["name"]}
    # The state moves only through campaign_state_change, which checks and records it.
    readonly_fields = ["state"]
    inlines = [TaskInline, StateChangeInline]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["key", "campaign", "number", "title"]
    list_filter = ["campaign"]


@admin.register(Episode)
class EpisodeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "in_rated_set"]
    list_filter = ["task__campaign", "task", "in_rated_set"]
    raw_id_fields = ["reference"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "campaign"]
    list_filter = ["campaign"]
    filter_horizontal = ["members"]


class ClipInline(admin.TabularInline):
    model = Clip
    extra = 0
    raw_id_fields = ["asset", "episode"]
    readonly_fields = ["token"]


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["team", "version", "source", "created_at"]
    list_filter = ["team__campaign"]
    inlines = [ClipInline]


@admin.register(Clip)
class ClipAdmin(admin.ModelAdmin):
    list_display = ["token", "submission", "episode"]
    list_filter = ["submission__team__campaign", "episode__task"]
    raw_id_fields = ["asset", "episode", "submission"]


@admin.display(description=_("error, as said"))
def error_said(obj: MediaAsset | ImportJob) -> str:
    """A stored notice (annotate.notice) as a sentence in the reader's language."""
    return text(obj.error)


@admin.register(MediaAsset)
class MediaAssetAdmin(admin.ModelAdmin):
    list_display = ["sha256", "codec", "width", "height", "fps", "frame_count", "status"]
    list_filter = ["status", "codec"]
    search_fields = ["sha256"]
    readonly_fields = [error_said]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "campaign", "kind", "team_name", "status", "done", "total", "created_at"]
    list_filter = ["status", "kind"]
    readonly_fields = [error_said]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["annotator", "clip", "status", "started_at", "completed_at"]
    list_filter = ["campaign", "status"]
    raw_id_fields = ["clip"]


class RevisionInline(admin.TabularInline):
    model = RatingRevision
    extra = 0
    readonly_fields = [
        "revision",
        "score",
        "final_state",
        "clean",
        "motion",
        "comment",
        "created_at",
    ]
    can_delete = False


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ["annotator", "clip", "score", "revision", "updated_at"]
    list_filter = ["clip__submission__team__campaign", "score"]
    raw_id_fields = ["assignment", "clip"]
    inlines = [RevisionInline]
