"""Ingest: reference episodes, team submissions and their media.

What an import finds (why a file is skipped or rejected, why the import failed) is kept
in its report and error as notices (``annotate.notice``): read later by anyone, each in
their own language (``annotate.notice_text``).
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from annotate import ingest, media
from annotate.models import (
    Campaign,
    Clip,
    Episode,
    ImportJob,
    MediaAsset,
    Rating,
    ReferenceReplacement,
    Submission,
    Task,
    Team,
)
from annotate.notice import Notice, NoticeError, code
from annotate.notice_text import text
from annotate.selectors import current_submissions
from annotate.services import assets

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

# What an import reports besides the ingest's and the media checks' own notices.
CAMERA_FILE = code("import.camera_file")  # file, reason (a notice)
OS_ERROR = code("import.os_error")  # detail
UNEXPECTED = code("import.unexpected")  # error (an exception's name), detail
RATED_REFERENCE = code("import.rated_reference")  # episode, n
NO_EPISODE = code("import.no_episode")  # episode
PATH_TOO_LONG = code("import.path_too_long")  # length, max
REFERENCE_REPLACED = code("import.reference_replaced")  # previous
STRICT_REFUSED = code("import.strict_refused")  # n
NOTHING_ACCEPTED = code("import.nothing_accepted")
RATED_DURING_IMPORT = code("import.rated_during_import")  # episode
WORKER_STOPPED = code("import.worker_stopped")
STOPPED = code("import.stopped")  # error, detail
INTERRUPTED = code("import.interrupted")  # error


class ImportRefused(Exception):
    """An import refused as a whole (strict with rejections, nothing accepted, a bad archive
    or team name): nothing was written.

    A request refused at once (a bad team name, a confirmation too late) says why in the
    reader's language, as text. What an import finds while it runs is a notice, kept in
    the job's error and said to each reader in their language; str() says it in the
    active one.
    """

    def __init__(self, message: str | Notice, report: ImportReport | None = None):
        super().__init__(message)
        self.notice = message
        self.report = report
        if report is not None:
            report.written = False
            report.submission_version = None

    def __str__(self) -> str:
        return text(self.notice)


class FileRejected(NoticeError):
    """One file of an import refused, with the reason (`notice`); the other files go on."""


@dataclass
class ImportReport:
    accepted: list[str] = field(default_factory=list)
    rejected: list[tuple[str, Notice]] = field(default_factory=list)
    skipped: list[tuple[str, Notice]] = field(default_factory=list)
    # Reference episodes whose file changed: (episode key, what happened to the old file).
    replaced: list[tuple[str, Notice]] = field(default_factory=list)
    submission_version: int | None = None
    # Episodes the team's current version has and the new one lacks.
    dropped: list[str] = field(default_factory=list)
    awaiting_confirmation: bool = False
    # The version the team chose as final, which stays rated: an import never overrides a
    # choice; the new version counts only once the team (or an organizer) chooses it.
    final_kept: int | None = None
    written: bool = True

    def as_dict(self) -> dict:
        """The report as stored (JSON): each reason and note a notice, never a sentence."""
        return {
            "written": self.written,
            "accepted": self.accepted,
            "rejected": [
                {"file": name, "reason": reason.as_json()} for name, reason in self.rejected
            ],
            "skipped": [
                {"file": name, "reason": reason.as_json()} for name, reason in self.skipped
            ],
            "replaced": [{"episode": key, "note": note.as_json()} for key, note in self.replaced],
            "submission_version": self.submission_version,
            "dropped": self.dropped,
            "awaiting_confirmation": self.awaiting_confirmation,
            "final_kept": self.final_kept,
        }


TEAM_NAME_MAX = Team._meta.get_field("name").max_length
SOURCE_NAME_MAX = Clip._meta.get_field("source_name").max_length


def team_name_clean(name: str) -> str:
    """The team's name as stored, or ImportRefused saying what is wrong with it."""
    name = (name or "").strip()
    if not name:
        raise ImportRefused(_("a submission import needs the team's name"))
    if len(name) > TEAM_NAME_MAX:
        raise ImportRefused(
            _("a team name has at most %(max)s characters, this one has %(n)s")
            % {"max": TEAM_NAME_MAX, "n": len(name)}
        )
    if any(not char.isprintable() for char in name):
        raise ImportRefused(_("a team name cannot hold control characters or line breaks"))
    return name


def _rejection_reason(exc: Exception) -> Notice:
    if isinstance(exc, NoticeError):  # the media checks' and FileRejected
        return exc.notice
    if isinstance(exc, OSError):
        return Notice(OS_ERROR, {"detail": str(exc.strerror or exc)})
    return Notice(UNEXPECTED, {"error": type(exc).__name__, "detail": str(exc)})


def _limits() -> media.Limits:
    return media.Limits(
        max_bytes=settings.INGEST_MAX_FILE_BYTES, max_duration_s=settings.INGEST_MAX_DURATION_S
    )


def _archive_limits() -> ingest.ArchiveLimits:
    return ingest.ArchiveLimits(
        max_bytes=settings.INGEST_MAX_ARCHIVE_BYTES,
        max_ratio=settings.INGEST_MAX_ARCHIVE_RATIO,
        max_members=settings.INGEST_MAX_ARCHIVE_MEMBERS,
    )


@dataclass
class _Staged:
    """A probed file copied into content-addressed storage, before any row is written."""

    key: str
    names: tuple[str, ...]
    sha256: str
    relpath: str
    probe: media.Probe
    # What annotators will be served; None when a ready asset already has these bytes.
    served: assets.ServedFiles | None = None


class _Stager:
    """Copies accepted files into storage with the copies served to annotators; removes
    what it created if the import is undone."""

    def __init__(self) -> None:
        self.created: list[Path] = []

    def stage(self, found: ingest.Found, source: Path, probe: media.Probe) -> _Staged:
        sha = media.sha256_file(source)
        relpath = f"assets/{sha[:2]}/{sha}/original{source.suffix.lower()}"
        target = Path(settings.MEDIA_ROOT) / relpath
        served = None
        if not MediaAsset.objects.filter(sha256=sha, status=MediaAsset.Status.READY).exists():
            # MediaPrepareError here rejects this file, before anything of it is stored.
            served = assets.served_files_make(source=source, probe=probe, folder=target.parent)
            self.created.extend(served.created)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part")
            shutil.copyfile(source, partial)
            partial.rename(target)
            self.created.append(target)
        return _Staged(found.key, found.names, sha, relpath, probe, served)

    def undo(self) -> None:
        for path in self.created:
            path.unlink(missing_ok=True)


def _asset_for(staged: _Staged) -> tuple[MediaAsset, bool]:
    """The asset of these bytes, ready: size and codec are the original's, the rest the
    served copy's. An asset left unready earlier is made ready with the new copy."""
    probe = staged.probe
    served = staged.served.fields() if staged.served else {}
    asset, created = MediaAsset.objects.get_or_create(
        sha256=staged.sha256,
        defaults=dict(
            original=staged.relpath,
            size_bytes=probe.size_bytes,
            codec=probe.codec,
            pix_fmt=probe.pix_fmt,
            **served,
        ),
    )
    if not created and served and asset.status != MediaAsset.Status.READY:
        for name, value in served.items():
            setattr(asset, name, value)
        asset.save(update_fields=list(served))
    return asset, created


def _run_import(
    *,
    upload: Path,
    scan_fn: Callable[[Path], ingest.Scan],
    prepare: Callable[[ingest.Found, Path], tuple[Path, media.Probe]],
    write: Callable[[list[_Staged], ImportReport], list[int]],
    strict: bool,
    progress: Progress | None,
) -> ImportReport:
    """Scan, probe and stage every file, then write all rows in one transaction."""
    report = ImportReport()
    stager = _Stager()
    try:
        with (
            ingest.opened_upload(upload, limits=_archive_limits()) as root,
            tempfile.TemporaryDirectory() as tmp,
        ):
            scan = scan_fn(root)
            report.skipped, report.rejected = list(scan.skipped), list(scan.rejected)
            staged: list[_Staged] = []
            for done, found in enumerate(scan.found, start=1):
                try:
                    source, probe = prepare(found, Path(tmp))
                    staged.append(stager.stage(found, source, probe))
                except Exception as exc:  # any failure of one file rejects that file only
                    report.rejected.append((", ".join(found.names), _rejection_reason(exc)))
                if progress:
                    progress(done, len(scan.found))
            if strict and report.rejected:
                raise ImportRefused(Notice(STRICT_REFUSED, {"n": len(report.rejected)}), report)
            if not staged:
                raise ImportRefused(Notice(NOTHING_ACCEPTED), report)
            with transaction.atomic():
                write(staged, report)
    except ingest.ArchiveError as exc:
        stager.undo()
        raise ImportRefused(exc.notice, report) from exc
    except BaseException:
        stager.undo()
        raise
    return report


def _prepare_reference(found: ingest.Found, tmp: Path) -> tuple[Path, media.Probe]:
    probes = []
    for path, name in zip(found.files, found.names, strict=True):
        try:
            probes.append(media.probe(path, limits=_limits()))
        except media.MediaError as exc:
            raise FileRejected(CAMERA_FILE, file=name, reason=exc.notice) from exc
    if len(found.files) == 1:
        return found.files[0], probes[0]
    out = tmp / f"{found.task}-{found.episode}.mp4"
    fps, height = media.composite_layout(probes, limits=_limits())
    media.composite_side_by_side(found.files, out, fps=fps, height=height)
    return out, media.probe(out, limits=_limits())


def reference_import(
    *, campaign: Campaign, path: Path, strict: bool = False, progress: Progress | None = None
) -> ImportReport:
    """Bring in reference episodes; several cameras are composited side by side in camera order.

    A different file for an episode that has ratings is rejected: those ratings judged the
    old reference. Without ratings the file is replaced, reported, and the old one kept in
    the episode's ReferenceReplacement history.
    """

    def existing(key: str) -> Episode | None:
        task_key, episode_key = key.split("/")
        return (
            Episode.objects.filter(task__campaign=campaign, task__key=task_key, key=episode_key)
            .select_related("reference")
            .first()
        )

    def prepare(found: ingest.Found, tmp: Path) -> tuple[Path, media.Probe]:
        source, probe = _prepare_reference(found, tmp)
        episode = existing(found.key)
        if episode is not None:
            n_ratings = Rating.objects.filter(clip__episode=episode).count()
            if n_ratings and media.sha256_file(source) != episode.reference.sha256:
                raise FileRejected(RATED_REFERENCE, episode=found.key, n=n_ratings)
        return source, probe

    def write(staged: list[_Staged], report: ImportReport) -> list[int]:
        new_assets = []
        for item in staged:
            task_key, episode_key = item.key.split("/")
            task, _ = Task.objects.get_or_create(
                campaign=campaign,
                key=task_key,
                defaults={"number": int(task_key.removeprefix("task"))},
            )
            asset, created = _asset_for(item)
            if created:
                new_assets.append(asset.pk)
            episode = existing(item.key)
            if episode is None:
                Episode.objects.create(
                    task=task,
                    key=episode_key,
                    number=int(episode_key.removeprefix("episode_")),
                    reference=asset,
                )
            elif episode.reference_id != asset.pk:
                if Rating.objects.filter(clip__episode=episode).exists():
                    # Rated since the file was probed: refuse the whole import, not half of it.
                    raise ImportRefused(Notice(RATED_DURING_IMPORT, {"episode": item.key}), report)
                ReferenceReplacement.objects.create(
                    episode=episode,
                    previous=episode.reference,
                    replaced_by=asset,
                    source=Path(path).name[:255],
                )
                previous = episode.reference.sha256[:12]
                report.replaced.append(
                    (item.key, Notice(REFERENCE_REPLACED, {"previous": previous}))
                )
                episode.reference = asset
                episode.save(update_fields=["reference"])
            report.accepted.append(item.key)
        return new_assets

    return _run_import(
        upload=Path(path),
        scan_fn=ingest.scan_reference,
        prepare=prepare,
        write=write,
        strict=strict,
        progress=progress,
    )


def submission_import(
    *,
    campaign: Campaign,
    team_name: str,
    path: Path,
    strict: bool = False,
    allow_drop: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Bring in one team's clips as a new submission version.

    The newest confirmed version is the one rated, unless the team chose one as final:
    that choice stays and the report names it (``final_kept``). A version that lacks episodes the
    current one has would take those clips out of the scores, so unless ``allow_drop`` it
    is stored awaiting the organizer's confirmation (``submission_confirm``) and the
    current version stays; the report lists the dropped episodes. An import that accepts
    no clip is refused and creates no version.
    """
    team_name = team_name_clean(team_name)
    episodes = {
        f"{task_key}/{episode_key}": pk
        for pk, task_key, episode_key in Episode.objects.filter(
            task__campaign=campaign
        ).values_list("pk", "task__key", "key")
    }

    def prepare(found: ingest.Found, tmp: Path) -> tuple[Path, media.Probe]:
        if found.key not in episodes:
            raise FileRejected(NO_EPISODE, episode=found.key)
        if len(found.names[0]) > SOURCE_NAME_MAX:
            raise FileRejected(PATH_TOO_LONG, length=len(found.names[0]), max=SOURCE_NAME_MAX)
        return found.files[0], media.probe(found.files[0], limits=_limits())

    def write(staged: list[_Staged], report: ImportReport) -> list[int]:
        team, _ = Team.objects.get_or_create(campaign=campaign, name=team_name)
        # Lock the team row so that two concurrent imports cannot take the same version.
        team = Team.objects.select_for_update().get(pk=team.pk)
        version = (team.submissions.aggregate(v=Max("version"))["v"] or 0) + 1
        current = current_submissions().filter(team=team).first()
        if current is not None:
            had = {
                f"{task_key}/{episode_key}"
                for task_key, episode_key in current.clips.values_list(
                    "episode__task__key", "episode__key"
                )
            }
            report.dropped = sorted(had - {item.key for item in staged}, key=ingest.natural_key)
        report.awaiting_confirmation = bool(report.dropped) and not allow_drop
        if current is not None and current.pk == team.final_submission_id:
            report.final_kept = current.version
        submission = Submission.objects.create(
            team=team,
            version=version,
            source=Path(path).name[:255],
            awaiting_confirmation=report.awaiting_confirmation,
        )
        new_assets = []
        for item in staged:
            asset, created = _asset_for(item)
            if created:
                new_assets.append(asset.pk)
            Clip.objects.create(
                submission=submission,
                episode_id=episodes[item.key],
                asset=asset,
                source_name=item.names[0],
            )
            report.accepted.append(item.key)
        report.submission_version = version
        submission.report = report.as_dict()
        submission.save(update_fields=["report"])
        return new_assets

    return _run_import(
        upload=Path(path),
        scan_fn=ingest.scan_submission,
        prepare=prepare,
        write=write,
        strict=strict,
        progress=progress,
    )


@transaction.atomic
def submission_confirm(
    *, submission: Submission, user=None, now: dt.datetime | None = None
) -> Submission:
    """Make a version that drops episodes the rated one: the organizer has seen the list."""
    # Under the team's row lock, as imports take versions under it.
    Team.objects.select_for_update().filter(pk=submission.team_id).first()
    submission = Submission.objects.select_related("team").get(pk=submission.pk)
    if not submission.awaiting_confirmation:
        raise ImportRefused(
            _("version %(version)s is not awaiting confirmation") % {"version": submission.version}
        )
    newer = current_submissions().filter(team=submission.team, version__gt=submission.version)
    if newer.exists():
        raise ImportRefused(
            _(
                "version %(newer)s is newer and already rated; version %(version)s can no "
                "longer become current"
            )
            % {"newer": newer.get().version, "version": submission.version}
        )
    submission.awaiting_confirmation = False
    submission.confirmed_at = now or timezone.now()
    submission.confirmed_by = user
    submission.report = {**submission.report, "awaiting_confirmation": False}
    submission.save(
        update_fields=["awaiting_confirmation", "confirmed_at", "confirmed_by", "report"]
    )
    return submission


def _discard_upload(upload: Path) -> None:
    """Remove an uploaded archive once its import has ended (the report keeps the names)."""
    try:
        if upload.resolve().parent == (Path(settings.VAR_DIR) / "uploads").resolve():
            upload.unlink(missing_ok=True)
    except (OSError, ValueError):  # a source that names no file: nothing to remove
        logger.warning("upload %r not removed", str(upload))


def import_job_create(
    *,
    campaign: Campaign,
    kind: str,
    upload: Path,
    team_name: str = "",
    strict: bool = False,
    allow_drop: bool = False,
    user=None,
    origin: str = ImportJob.Origin.PAGE,
) -> ImportJob:
    """Record an import of an uploaded file and queue it; the page follows its progress.

    A refused request (a bad team name) removes the uploaded file and raises ImportRefused.
    """
    try:
        if kind == ImportJob.Kind.SUBMISSION:
            team_name = team_name_clean(team_name)
        elif kind != ImportJob.Kind.REFERENCE:
            raise ImportRefused(_("unknown import kind %(kind)r") % {"kind": kind})
    except ImportRefused:
        _discard_upload(Path(upload))
        raise
    job = ImportJob.objects.create(
        campaign=campaign,
        kind=kind,
        team_name=team_name if kind == ImportJob.Kind.SUBMISSION else "",
        source=str(upload),
        strict=strict,
        allow_drop=allow_drop,
        created_by=user,
        report={"origin": origin},
    )
    from annotate.tasks import import_job_run

    transaction.on_commit(lambda: import_job_run.delay(job.pk))
    return job


def import_job_run(*, job_id: int) -> ImportJob:
    """Run a queued import; whatever happens, the job ends as done or failed with a message.

    A job found running already was started by a worker that died (the task is delivered
    again): it ends as failed rather than running again, whatever killed that worker.
    """
    job = ImportJob.objects.get(pk=job_id)
    queued = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.QUEUED)
    if not queued.update(status=ImportJob.Status.RUNNING):
        job.refresh_from_db()
        if job.status == ImportJob.Status.RUNNING:
            job.status = ImportJob.Status.FAILED
            job.error = Notice(WORKER_STOPPED).as_json()
            _import_job_end(job)
        return ImportJob.objects.get(pk=job.pk)

    def progress(done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(done=done, total=total)

    kwargs = dict(
        campaign=job.campaign, path=Path(job.source), strict=job.strict, progress=progress
    )
    job.error, job.report = "", {}
    try:
        if job.kind == ImportJob.Kind.REFERENCE:
            report = reference_import(**kwargs)
        else:
            report = submission_import(team_name=job.team_name, allow_drop=job.allow_drop, **kwargs)
        job.status, job.report = ImportJob.Status.DONE, report.as_dict()
    except ImportRefused as exc:
        job.status, job.error = ImportJob.Status.FAILED, _stored(exc.notice)
        job.report = exc.report.as_dict() if exc.report else {}
    except Exception as exc:
        # A fault of the code or the machine, or a time limit: the job must not stay "running".
        logger.exception("import job %s failed", job.pk)
        job.status = ImportJob.Status.FAILED
        job.error = _stopped(exc)
    except BaseException as exc:  # the worker is being stopped: record it, then let it stop
        job.status = ImportJob.Status.FAILED
        job.error = Notice(INTERRUPTED, {"error": type(exc).__name__}).as_json()
        _import_job_end(job)
        raise
    _import_job_end(job)
    return ImportJob.objects.get(pk=job.pk)


def _stored(reason: str | Notice) -> object:
    """A refusal as a job keeps it: a notice as JSON (text, from a request refused at once,
    as it is)."""
    return reason.as_json() if isinstance(reason, Notice) else reason


def _stopped(exc: BaseException) -> dict:
    return Notice(STOPPED, {"error": type(exc).__name__, "detail": str(exc)}).as_json()


def _import_job_end(job: ImportJob) -> None:
    # The report is replaced by the import's own; where the import came from stays.
    stored = ImportJob.objects.filter(pk=job.pk).values_list("report", flat=True).first() or {}
    if "origin" in stored:
        job.report = {**job.report, "origin": stored["origin"]}
    job.finished_at = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        status=job.status, report=job.report, error=job.error, finished_at=job.finished_at
    )
    _discard_upload(Path(job.source))


def import_recorded(
    *,
    kind: str,
    origin: str,
    campaign: Campaign,
    path: Path,
    user=None,
    progress: Progress | None = None,
    **options,
) -> ImportReport:
    """Run an import here and now (a command, the demo), kept in the import history as a
    queued one is: running, then done or failed with its report. Returns the report and
    raises what the import raised."""
    service = {
        ImportJob.Kind.REFERENCE: reference_import,
        ImportJob.Kind.SUBMISSION: submission_import,
    }
    if kind not in service:
        raise ImportRefused(_("unknown import kind %(kind)r") % {"kind": kind})
    if kind == ImportJob.Kind.SUBMISSION:  # refused as a request, as the page and the API do
        options["team_name"] = team_name_clean(options.get("team_name", ""))
    job = ImportJob.objects.create(
        campaign=campaign,
        kind=kind,
        team_name=options.get("team_name", ""),
        source=str(path),
        strict=options.get("strict", False),
        allow_drop=options.get("allow_drop", False),
        created_by=user,
        status=ImportJob.Status.RUNNING,
        report={"origin": origin},
    )

    def tracked(done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(done=done, total=total)
        if progress:
            progress(done, total)

    job.report = {}
    try:
        report = service[kind](campaign=campaign, path=path, progress=tracked, **options)
    except ImportRefused as exc:
        job.status, job.error = ImportJob.Status.FAILED, _stored(exc.notice)
        job.report = exc.report.as_dict() if exc.report else {}
        raise
    except BaseException as exc:
        job.status = ImportJob.Status.FAILED
        job.error = _stopped(exc)
        raise
    else:
        job.status, job.report = ImportJob.Status.DONE, report.as_dict()
    finally:
        _import_job_end(job)
    return report
