"""Finding episodes in an upload: data layouts and safe archive extraction.

No ORM here: functions of paths. The services turn what is found into rows. Why a file
is skipped or rejected, or an archive refused, is a notice (``annotate.notice``): kept in
the import's report and said in the language of whoever reads it.
"""

from __future__ import annotations

import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from annotate.media import VIDEO_SUFFIXES
from annotate.natural_order import natural_key
from annotate.notice import Notice, NoticeError, code

# At most nine digits: the numbers are stored as 32-bit integers.
TASK_RE = re.compile(r"^task(\d{1,9})$", re.IGNORECASE)
EPISODE_RE = re.compile(r"^episode_(\d{1,9})$", re.IGNORECASE)
# Most file systems take at most 255 bytes per name; longer ones fail half-way through extraction.
NAME_MAX_BYTES = 255
# The challenge's camera order; the teams' clips show the views in this order.
CAMERAS = ("cam_high", "cam_left_wrist", "cam_right_wrist")

# Why a file is skipped (left out, as expected of it) or rejected (it should have been an
# episode and cannot be one). Parameters after each code.
HIDDEN_FILE = code("file.hidden")
NOT_A_VIDEO = code("file.not_video")
DEBUG_FILE = code("file.debug")
UNKNOWN_LAYOUT = code("file.unknown_layout")
GIVEN_TWICE = code("file.given_twice")  # episode, files
SINGLE_AND_CAMERAS = code("file.single_and_cameras")  # episode, files
# Why an archive is refused as a whole.
TOO_MANY_MEMBERS = code("archive.too_many_members")  # members, limit
ABSOLUTE_PATH = code("archive.absolute_path")  # name
PATH_ESCAPES = code("archive.path_escapes")  # name
LINK_MEMBER = code("archive.link")  # name
EXPANDS_TOO_MUCH = code("archive.too_large")  # size, limit
COMPRESSION_BOMB = code("archive.bomb")  # ratio
NAME_TOO_LONG = code("archive.name_too_long")  # name, bytes, limit
DUPLICATE_MEMBER = code("archive.duplicate_member")  # name
FILE_IS_A_FOLDER = code("archive.file_is_folder")  # name, inner
FOLDER_IS_A_FILE = code("archive.folder_is_file")  # name, inner
NOT_A_ZIP = code("archive.not_zip")  # detail
INFLATES_PAST_SIZE = code("archive.inflates")
CORRUPT_MEMBER = code("archive.corrupt_member")  # name, detail
ENCRYPTED_MEMBER = code("archive.encrypted_member")  # name
UNREADABLE_MEMBER = code("archive.unreadable_member")  # name, detail
UNEXTRACTABLE_MEMBER = code("archive.unextractable_member")  # name, detail
NO_SUCH_UPLOAD = code("archive.missing")  # path
NEITHER_FOLDER_NOR_ZIP = code("archive.not_folder_or_zip")  # name


class ArchiveError(NoticeError):
    """An archive refused as a whole, before anything is extracted; `notice` says why."""


@dataclass(frozen=True)
class ArchiveLimits:
    max_bytes: int
    max_ratio: float
    max_members: int


@dataclass(frozen=True)
class Found:
    """One episode's video(s) found in an upload."""

    task: str
    episode: str
    files: tuple[Path, ...]
    names: tuple[str, ...]  # paths inside the upload, for the report

    @property
    def key(self) -> str:
        return f"{self.task}/{self.episode}"


@dataclass
class Scan:
    found: list[Found] = field(default_factory=list)
    skipped: list[tuple[str, Notice]] = field(default_factory=list)
    rejected: list[tuple[str, Notice]] = field(default_factory=list)


def camera_order(camera: str) -> tuple[int, str]:
    return (CAMERAS.index(camera), "") if camera in CAMERAS else (len(CAMERAS), camera)


def _task_and_rest(parts: tuple[str, ...]) -> tuple[str, tuple[str, ...]] | None:
    for index in range(len(parts) - 1, -1, -1):
        match = TASK_RE.match(parts[index])
        if match:
            return f"task{int(match.group(1))}", parts[index + 1 :]
    return None


def _episode(name: str) -> str | None:
    match = EPISODE_RE.match(name)
    return f"episode_{int(match.group(1))}" if match else None


def _skip_reason(rel: PurePosixPath) -> Notice | None:
    if any(part.startswith(".") or part == "__MACOSX" for part in rel.parts):
        return Notice(HIDDEN_FILE)
    if rel.suffix.lower() not in VIDEO_SUFFIXES:
        return Notice(NOT_A_VIDEO)
    if rel.stem.lower().startswith("concat_"):
        return Notice(DEBUG_FILE)
    return None


def _files(root: Path) -> Iterator[tuple[Path, PurePosixPath]]:
    for path in sorted(root.rglob("*"), key=lambda p: natural_key(str(p))):
        if path.is_file() and not path.is_symlink():
            yield path, PurePosixPath(path.relative_to(root).as_posix())


def scan_reference(root: Path) -> Scan:
    """Reference episodes in any of the three layouts; several cameras make one episode.

    An episode given twice (the same camera in two layouts, or a single clip beside camera
    files) is rejected as a whole, naming every file: which one to keep is not for name
    order to decide.
    """
    scan = Scan()
    cameras: dict[tuple[str, str], dict[str, list[tuple[Path, str]]]] = {}
    for path, rel in _files(root):
        if reason := _skip_reason(rel):
            scan.skipped.append((str(rel), reason))
            continue
        located = _task_and_rest(rel.parts)
        layout = _reference_layout(located[1]) if located else None
        if located is None or layout is None:
            scan.skipped.append((str(rel), Notice(UNKNOWN_LAYOUT)))
            continue
        episode, camera = layout
        views = cameras.setdefault((located[0], episode), {})
        views.setdefault(camera, []).append((path, str(rel)))
    for (task, episode), views in sorted(
        cameras.items(), key=lambda kv: (natural_key(kv[0][0]), natural_key(kv[0][1]))
    ):
        names = [name for files in views.values() for _, name in files]
        given = {"episode": f"{task}/{episode}", "files": ", ".join(names)}
        reason = None
        if any(len(files) > 1 for files in views.values()):
            reason = Notice(GIVEN_TWICE, given)
        elif "" in views and len(views) > 1:
            reason = Notice(SINGLE_AND_CAMERAS, given)
        if reason is not None:
            scan.rejected.extend((name, reason) for name in names)
            continue
        ordered = sorted(views.items(), key=lambda kv: camera_order(kv[0]))
        scan.found.append(
            Found(
                task,
                episode,
                tuple(files[0][0] for _, files in ordered),
                tuple(files[0][1] for _, files in ordered),
            )
        )
    return scan


def _reference_layout(rest: tuple[str, ...]) -> tuple[str, str] | None:
    """(episode, camera) from the path after task<K>; camera '' for a single clip."""
    stem = PurePosixPath(rest[-1]).stem if rest else ""
    if len(rest) == 1 and (episode := _episode(stem)):
        return episode, ""
    if len(rest) == 2 and (episode := _episode(rest[0])):
        return episode, stem
    if len(rest) == 3 and rest[0].lower() == "videos" and (episode := _episode(stem)):
        return episode, rest[1]
    return None


def scan_submission(root: Path) -> Scan:
    """A team's clips laid out as [<split>/]task<K>/episode_<N>.mp4.

    An episode found twice (in two splits, say) is rejected, naming both files.
    """
    scan = Scan()
    by_key: dict[str, list[tuple[Path, str]]] = {}
    for path, rel in _files(root):
        if reason := _skip_reason(rel):
            scan.skipped.append((str(rel), reason))
            continue
        located = _task_and_rest(rel.parts)
        episode = _episode(rel.stem) if located and len(located[1]) == 1 else None
        if located is None or episode is None:
            scan.skipped.append((str(rel), Notice(UNKNOWN_LAYOUT)))
            continue
        by_key.setdefault(f"{located[0]}/{episode}", []).append((path, str(rel)))
    for key, files in by_key.items():
        if len(files) > 1:
            names = ", ".join(name for _, name in files)
            reason = Notice(GIVEN_TWICE, {"episode": key, "files": names})
            scan.rejected.extend((name, reason) for _, name in files)
            continue
        task, episode = key.split("/")
        scan.found.append(Found(task, episode, (files[0][0],), (files[0][1],)))
    return scan


def check_archive(archive: zipfile.ZipFile, *, limits: ArchiveLimits) -> list[zipfile.ZipInfo]:
    """Refuse traversal, absolute paths, links and decompression bombs before extracting anything."""
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise ArchiveError(TOO_MANY_MEMBERS, members=len(members), limit=limits.max_members)
    total = compressed = 0
    files: dict[PurePosixPath, str] = {}
    folders: dict[PurePosixPath, str] = {}
    for info in members:
        name = info.filename.replace("\\", "/")
        if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
            raise ArchiveError(ABSOLUTE_PATH, name=info.filename)
        if ".." in PurePosixPath(name).parts:
            raise ArchiveError(PATH_ESCAPES, name=info.filename)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ArchiveError(LINK_MEMBER, name=info.filename)
        _check_member_name(info, files=files, folders=folders)
        total += info.file_size
        compressed += info.compress_size
    if total > limits.max_bytes:
        raise ArchiveError(EXPANDS_TOO_MUCH, size=total, limit=limits.max_bytes)
    if compressed and total / compressed > limits.max_ratio:
        raise ArchiveError(COMPRESSION_BOMB, ratio=total / compressed)
    return members


def _check_member_name(
    info: zipfile.ZipInfo,
    *,
    files: dict[PurePosixPath, str],
    folders: dict[PurePosixPath, str],
) -> None:
    """Refuse names that cannot be extracted side by side: too long, duplicated or clashing.

    ``files`` and ``folders`` collect the members seen so far (normalized path to the name
    as written in the archive).
    """
    path = PurePosixPath(info.filename.replace("\\", "/"))
    for part in path.parts:
        if len(part.encode()) > NAME_MAX_BYTES:
            raise ArchiveError(
                NAME_TOO_LONG,
                name=info.filename[:80],
                bytes=len(part.encode()),
                limit=NAME_MAX_BYTES,
            )
    parents = {PurePosixPath(*path.parts[:n]): info.filename for n in range(1, len(path.parts))}
    if info.is_dir():
        parents[path] = info.filename
    else:
        if path in files:
            raise ArchiveError(DUPLICATE_MEMBER, name=info.filename)
        if path in folders:
            raise ArchiveError(FILE_IS_A_FOLDER, name=info.filename, inner=folders[path])
        files[path] = info.filename
    for parent, name in parents.items():
        if parent in files:
            raise ArchiveError(FOLDER_IS_A_FILE, name=files[parent], inner=name)
        folders.setdefault(parent, name)


def extract_archive(path: Path, dest: Path, *, limits: ArchiveLimits) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ArchiveError(NOT_A_ZIP, detail=str(exc)) from exc
    with archive:
        members = check_archive(archive, limits=limits)
        written = 0
        for info in members:
            target = dest / PurePosixPath(info.filename.replace("\\", "/"))
            try:
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                # Headers can lie about sizes: count the bytes actually inflated.
                with archive.open(info) as src, open(target, "wb") as out:
                    while block := src.read(1 << 20):
                        written += len(block)
                        if written > limits.max_bytes:
                            raise ArchiveError(INFLATES_PAST_SIZE)
                        out.write(block)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                # zipfile stops at the declared size, so a lying header ends in a bad CRC.
                raise ArchiveError(CORRUPT_MEMBER, name=info.filename, detail=str(exc)) from exc
            except (RuntimeError, NotImplementedError) as exc:
                # zipfile's words for an encrypted member or an unknown compression method.
                if info.flag_bits & 0x1:
                    raise ArchiveError(ENCRYPTED_MEMBER, name=info.filename[:200]) from exc
                raise ArchiveError(
                    UNREADABLE_MEMBER, name=info.filename[:200], detail=str(exc)
                ) from exc
            except OSError as exc:
                # Anything the checks above did not foresee: still named, never a traceback.
                raise ArchiveError(
                    UNEXTRACTABLE_MEMBER,
                    name=info.filename[:200],
                    detail=str(exc.strerror or exc),
                ) from exc


@contextmanager
def opened_upload(path: Path, *, limits: ArchiveLimits) -> Iterator[Path]:
    """A folder as it is, or a zip extracted (after checks) into a temporary folder."""
    if path.is_dir():
        yield path
        return
    if not path.is_file():
        raise ArchiveError(NO_SUCH_UPLOAD, path=str(path))
    if not zipfile.is_zipfile(path):
        raise ArchiveError(NEITHER_FOLDER_NOR_ZIP, name=path.name)
    tmp = Path(tempfile.mkdtemp(prefix="refscore-upload-"))
    try:
        extract_archive(path, tmp, limits=limits)
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
