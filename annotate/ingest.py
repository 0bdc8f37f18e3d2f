"""Finding episodes in an upload: data layouts and safe archive extraction.

No ORM here: functions of paths. The services turn what is found into rows.
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

# At most nine digits: the numbers are stored as 32-bit integers.
TASK_RE = re.compile(r"^task(\d{1,9})$", re.IGNORECASE)
EPISODE_RE = re.compile(r"^episode_(\d{1,9})$", re.IGNORECASE)
# Most file systems take at most 255 bytes per name; longer ones fail half-way through extraction.
NAME_MAX_BYTES = 255
# The challenge's camera order; the teams' clips show the views in this order.
CAMERAS = ("cam_high", "cam_left_wrist", "cam_right_wrist")


class ArchiveError(Exception):
    """An archive refused as a whole, before anything is extracted."""


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
    skipped: list[tuple[str, str]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)


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


def _skip_reason(rel: PurePosixPath) -> str | None:
    if any(part.startswith(".") or part == "__MACOSX" for part in rel.parts):
        return "hidden file"
    if rel.suffix.lower() not in VIDEO_SUFFIXES:
        return "not a video"
    if rel.stem.lower().startswith("concat_"):
        return "debug file (concat_*)"
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
            scan.skipped.append((str(rel), "not in a known layout"))
            continue
        episode, camera = layout
        views = cameras.setdefault((located[0], episode), {})
        views.setdefault(camera, []).append((path, str(rel)))
    for (task, episode), views in sorted(
        cameras.items(), key=lambda kv: (natural_key(kv[0][0]), natural_key(kv[0][1]))
    ):
        names = [name for files in views.values() for _, name in files]
        if any(len(files) > 1 for files in views.values()):
            reason = f"{task}/{episode} is given more than once: {', '.join(names)}"
        elif "" in views and len(views) > 1:
            reason = f"{task}/{episode} has both a single clip and camera files: {', '.join(names)}"
        else:
            reason = ""
        if reason:
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
            scan.skipped.append((str(rel), "not in a known layout"))
            continue
        by_key.setdefault(f"{located[0]}/{episode}", []).append((path, str(rel)))
    for key, files in by_key.items():
        if len(files) > 1:
            names = ", ".join(name for _, name in files)
            scan.rejected.extend(
                (name, f"{key} is given more than once: {names}") for _, name in files
            )
            continue
        task, episode = key.split("/")
        scan.found.append(Found(task, episode, (files[0][0],), (files[0][1],)))
    return scan


def check_archive(archive: zipfile.ZipFile, *, limits: ArchiveLimits) -> list[zipfile.ZipInfo]:
    """Refuse traversal, absolute paths, links and decompression bombs before extracting anything."""
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise ArchiveError(
            f"archive has {len(members)} members, over the limit of {limits.max_members}"
        )
    total = compressed = 0
    files: dict[PurePosixPath, str] = {}
    folders: dict[PurePosixPath, str] = {}
    for info in members:
        name = info.filename.replace("\\", "/")
        if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
            raise ArchiveError(f"absolute path in archive: {info.filename}")
        if ".." in PurePosixPath(name).parts:
            raise ArchiveError(f"path escapes the archive: {info.filename}")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ArchiveError(f"link in archive: {info.filename}")
        _check_member_name(info, files=files, folders=folders)
        total += info.file_size
        compressed += info.compress_size
    if total > limits.max_bytes:
        raise ArchiveError(
            f"archive expands to {total} bytes, over the limit of {limits.max_bytes}"
        )
    if compressed and total / compressed > limits.max_ratio:
        raise ArchiveError(
            f"archive compression ratio {total / compressed:.0f}:1 looks like a decompression bomb"
        )
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
                f"name too long in archive: {info.filename[:80]}… "
                f"({len(part.encode())} bytes in one name, at most {NAME_MAX_BYTES})"
            )
    parents = {PurePosixPath(*path.parts[:n]): info.filename for n in range(1, len(path.parts))}
    if info.is_dir():
        parents[path] = info.filename
    else:
        if path in files:
            raise ArchiveError(
                f"duplicate member in archive: {info.filename} appears more than once"
            )
        if path in folders:
            raise ArchiveError(
                f"member clashes with a folder in archive: {info.filename} is both a file "
                f"and the folder of {folders[path]}"
            )
        files[path] = info.filename
    for parent, name in parents.items():
        if parent in files:
            raise ArchiveError(
                f"member clashes with a file in archive: {files[parent]} is both a file "
                f"and the folder of {name}"
            )
        folders.setdefault(parent, name)


def extract_archive(path: Path, dest: Path, *, limits: ArchiveLimits) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ArchiveError(f"not a valid zip archive: {exc}") from exc
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
                            raise ArchiveError("archive inflates past its declared size")
                        out.write(block)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                # zipfile stops at the declared size, so a lying header ends in a bad CRC.
                raise ArchiveError(
                    f"corrupt archive member {info.filename}: {exc} "
                    "(damaged, or its header misstates its size)"
                ) from exc
            except (RuntimeError, NotImplementedError) as exc:
                # zipfile's words for an encrypted member or an unknown compression method.
                reason = "is encrypted" if info.flag_bits & 0x1 else f"cannot be read ({exc})"
                raise ArchiveError(f"archive member {info.filename[:200]} {reason}") from exc
            except OSError as exc:
                # Anything the checks above did not foresee: still named, never a traceback.
                raise ArchiveError(
                    f"cannot extract archive member {info.filename[:200]}: {exc.strerror or exc}"
                ) from exc


@contextmanager
def opened_upload(path: Path, *, limits: ArchiveLimits) -> Iterator[Path]:
    """A folder as it is, or a zip extracted (after checks) into a temporary folder."""
    if path.is_dir():
        yield path
        return
    if not path.is_file():
        raise ArchiveError(f"no such file or folder: {path}")
    if not zipfile.is_zipfile(path):
        raise ArchiveError(f"{path.name} is neither a folder nor a zip archive")
    tmp = Path(tempfile.mkdtemp(prefix="refscore-upload-"))
    try:
        extract_archive(path, tmp, limits=limits)
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
