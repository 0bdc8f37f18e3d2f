"""Ingest: campaigns, reference episodes, team submissions and their media."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from annotate import ingest, media
from annotate.models import Campaign, Clip, Episode, ImportJob, MediaAsset, Submission, Task, Team

Progress = Callable[[int, int], None]


class ImportRefused(Exception):
    """A strict import with rejections, or an upload refused as a whole: nothing was written."""

    def __init__(self, message: str, report: ImportReport | None = None):
        super().__init__(message)
        self.report = report


@dataclass
class ImportReport:
    accepted: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    submission_version: int | None = None

    def as_dict(self) -> dict:
        return {
            "accepted": self.accepted,
            "rejected": [{"file": name, "reason": reason} for name, reason in self.rejected],
            "skipped": [{"file": name, "reason": reason} for name, reason in self.skipped],
            "submission_version": self.submission_version,
        }


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


def campaign_create(*, slug: str, name: str, **options: object) -> Campaign:
    campaign = Campaign(slug=slug, name=name, **options)
    campaign.full_clean()
    campaign.save()
    return campaign


@dataclass
class _Staged:
    """A probed file copied into content-addressed storage, before any row is written."""

    key: str
    names: tuple[str, ...]
    sha256: str
    relpath: str
    probe: media.Probe


class _Stager:
    """Copies accepted files into storage; removes what it created if the import is undone."""

    def __init__(self) -> None:
        self.created: list[Path] = []

    def stage(self, found: ingest.Found, source: Path, probe: media.Probe) -> _Staged:
        sha = media.sha256_file(source)
        relpath = f"assets/{sha[:2]}/{sha}/original{source.suffix.lower()}"
        target = Path(settings.MEDIA_ROOT) / relpath
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part")
            shutil.copyfile(source, partial)
            partial.rename(target)
            self.created.append(target)
        return _Staged(found.key, found.names, sha, relpath, probe)

    def undo(self) -> None:
        for path in self.created:
            path.unlink(missing_ok=True)


def _asset_for(staged: _Staged) -> tuple[MediaAsset, bool]:
    probe = staged.probe
    return MediaAsset.objects.get_or_create(
        sha256=staged.sha256,
        defaults=dict(
            original=staged.relpath,
            size_bytes=probe.size_bytes,
            codec=probe.codec,
            pix_fmt=probe.pix_fmt,
            width=probe.width,
            height=probe.height,
            fps=probe.fps,
            frame_count=probe.frame_count,
            duration_s=probe.duration_s,
            views=media.views_in(probe.width, probe.height),
        ),
    )


def _queue_prepare(asset_ids: list[int]) -> None:
    from annotate.tasks import media_asset_prepare

    for asset_id in asset_ids:
        transaction.on_commit(lambda asset_id=asset_id: media_asset_prepare.delay(asset_id))


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
                except media.MediaError as exc:
                    report.rejected.append((", ".join(found.names), str(exc)))
                if progress:
                    progress(done, len(scan.found))
            with transaction.atomic():
                new_assets = write(staged, report)
                if strict and report.rejected:
                    raise ImportRefused(
                        f"{len(report.rejected)} file(s) rejected; strict import wrote nothing",
                        report,
                    )
                _queue_prepare(new_assets)
    except ingest.ArchiveError as exc:
        stager.undo()
        raise ImportRefused(str(exc), report) from exc
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
            raise media.MediaError(f"{name}: {exc}") from exc
    if len(found.files) == 1:
        return found.files[0], probes[0]
    out = tmp / f"{found.task}-{found.episode}.mp4"
    media.composite_side_by_side(found.files, out, fps=probes[0].fps, height=probes[0].height)
    return out, media.probe(out, limits=_limits())


def reference_import(
    *, campaign: Campaign, path: Path, strict: bool = False, progress: Progress | None = None
) -> ImportReport:
    """Bring in reference episodes; several cameras are composited side by side in camera order."""

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
            Episode.objects.update_or_create(
                task=task,
                key=episode_key,
                defaults={"number": int(episode_key.removeprefix("episode_")), "reference": asset},
            )
            report.accepted.append(item.key)
        return new_assets

    return _run_import(
        upload=Path(path),
        scan_fn=ingest.scan_reference,
        prepare=_prepare_reference,
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
    progress: Progress | None = None,
    demo_categories: Mapping[str, int] | None = None,
) -> ImportReport:
    """Bring in one team's clips as a new submission version; the newest version is the one rated."""
    episodes = {
        f"{task_key}/{episode_key}": pk
        for pk, task_key, episode_key in Episode.objects.filter(
            task__campaign=campaign
        ).values_list("pk", "task__key", "key")
    }

    def prepare(found: ingest.Found, tmp: Path) -> tuple[Path, media.Probe]:
        if found.key not in episodes:
            raise media.MediaError(f"no reference episode {found.key} in this campaign")
        return found.files[0], media.probe(found.files[0], limits=_limits())

    def write(staged: list[_Staged], report: ImportReport) -> list[int]:
        team, _ = Team.objects.get_or_create(campaign=campaign, name=team_name)
        # Lock the team row so that two concurrent imports cannot take the same version.
        Team.objects.select_for_update().filter(pk=team.pk).first()
        version = (team.submissions.aggregate(v=Max("version"))["v"] or 0) + 1
        submission = Submission.objects.create(team=team, version=version, source=Path(path).name)
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
                demo_category=(demo_categories or {}).get(item.key),
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


def media_asset_prepare(*, asset_id: int) -> MediaAsset:
    """Make the poster and, when the original does not play in browsers, an H.264 derivative."""
    asset = MediaAsset.objects.get(pk=asset_id)
    root = Path(settings.MEDIA_ROOT)
    original = root / asset.original
    folder = original.parent
    try:
        if media.plays_in_browsers(original, codec=asset.codec, pix_fmt=asset.pix_fmt):
            asset.playable = asset.original
        else:
            media.transcode_to_playable(original, folder / "playable.part.mp4")
            (folder / "playable.part.mp4").rename(folder / "playable.mp4")
            asset.playable = str((folder / "playable.mp4").relative_to(root))
        media.make_poster(root / asset.playable, folder / "poster.jpg")
        asset.poster = str((folder / "poster.jpg").relative_to(root))
        asset.status, asset.error = MediaAsset.Status.READY, ""
    except (media.MediaError, OSError) as exc:
        asset.status, asset.error = MediaAsset.Status.FAILED, str(exc)
    asset.save(update_fields=["playable", "poster", "status", "error"])
    return asset


def import_job_create(
    *,
    campaign: Campaign,
    kind: str,
    upload: Path,
    team_name: str = "",
    strict: bool = False,
    user=None,
) -> ImportJob:
    """Record an import of an uploaded file and queue it; the page follows its progress."""
    if kind == ImportJob.Kind.SUBMISSION and not team_name.strip():
        raise ValueError("a submission import needs a team name")
    job = ImportJob.objects.create(
        campaign=campaign,
        kind=kind,
        team_name=team_name.strip(),
        source=str(upload),
        strict=strict,
        created_by=user,
    )
    from annotate.tasks import import_job_run

    transaction.on_commit(lambda: import_job_run.delay(job.pk))
    return job


def import_job_run(*, job_id: int) -> ImportJob:
    job = ImportJob.objects.get(pk=job_id)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)

    def progress(done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(done=done, total=total)

    kwargs = dict(
        campaign=job.campaign, path=Path(job.source), strict=job.strict, progress=progress
    )
    try:
        if job.kind == ImportJob.Kind.REFERENCE:
            report = reference_import(**kwargs)
        else:
            report = submission_import(team_name=job.team_name, **kwargs)
        job.status, job.report = ImportJob.Status.DONE, report.as_dict()
    except ImportRefused as exc:
        job.status, job.error = ImportJob.Status.FAILED, str(exc)
        job.report = exc.report.as_dict() if exc.report else {}
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "report", "error", "finished_at"])
    return ImportJob.objects.get(pk=job.pk)
