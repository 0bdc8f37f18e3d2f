from django.contrib import admin

from evaluation.models import JudgeRun, JudgeVersion, Verdict


@admin.register(JudgeVersion)
class JudgeVersionAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "calibrated_on", "created_at"]


@admin.register(JudgeRun)
class JudgeRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "campaign", "judge", "status", "done", "total", "created_at"]
    list_filter = ["status", "campaign"]


@admin.register(Verdict)
class VerdictAdmin(admin.ModelAdmin):
    list_display = ["run", "clip", "score", "expected_score", "confidence"]
    list_filter = ["run"]
    raw_id_fields = ["clip"]
