"""Every bad input of the hardening issue, in one place: refused, with the reason, nothing half-written.

Media and archives go through the real ingest services, for a reference import and a
submission import alike; the ratings, episodes and verdicts CSVs go through the
offline ``manage.py rank`` and ``manage.py agreement`` commands.
tests/annotate/test_ingest.py and tests/scoring/ keep the finer behaviour of each.
"""

from __future__ import annotations

import random
import re
import shutil
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import av
import numpy as np
import pytest
from django.core.management import CommandError, call_command

from annotate.models import Campaign, Clip, Episode, MediaAsset, Submission, Task, Team
from annotate.notice_text import text
from annotate.services import ImportRefused, reference_import, submission_import
from tests.videos import write_audio_only, write_reference_tree, write_video, write_zero_frames

# --- media files, one bad file beside a good one --------------------------------------


def truncated_mp4(path: Path) -> Path:
    """An MP4 with its index first, cut short: it still decodes, with fewer frames."""
    data = write_video(path, frames=24, width=144, height=48).read_bytes()
    path.write_bytes(data[: len(data) * 6 // 10])
    return path


def random_bytes(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(random.Random(7).randbytes(8192))
    return path


def declared_resolution(width: int, height: int) -> Callable[[Path], Path]:
    """A tiny valid raw-video AVI whose headers are patched to declare width x height.

    AVI keeps the size in 32-bit header fields that raw video takes at their word
    (an H.264 stream in MP4 takes its size from the bitstream, not from avc1/tkhd).
    """

    def write(path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        with av.open(str(path), "w", format="avi") as container:
            stream = container.add_stream("rawvideo", rate=12)
            stream.width, stream.height, stream.pix_fmt = 16, 16, "yuv420p"
            for _ in range(3):
                image = np.zeros((16, 16, 3), np.uint8)
                container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
            container.mux(stream.encode())
        data = bytearray(path.read_bytes())
        main_header = data.find(b"avih")  # dwWidth, dwHeight after eight 32-bit fields
        struct.pack_into("<II", data, main_header + 8 + 32, width, height)
        bitmap = data.find(b"strf")  # BITMAPINFOHEADER: biSize, biWidth, biHeight
        struct.pack_into("<ii", data, bitmap + 12, width, height)
        path.write_bytes(bytes(data))
        return path

    return write


@dataclass(frozen=True)
class BadFile:
    name: str  # path inside the upload
    write: Callable[[Path], Path]
    reason: str  # a regular expression the rejection reason must match


BAD_FILES = {
    "truncated_mp4": BadFile(
        "task1/episode_1.mp4",
        truncated_mp4,
        r"^truncated: the 'mdat' box declares \d+ bytes but the file ends \d+ bytes short$",
    ),
    "audio_only": BadFile("task1/episode_1.mp4", write_audio_only, r"^no video stream$"),
    "zero_frames": BadFile("task1/episode_1.mp4", write_zero_frames, r"^no frames$"),
    "resolution_over_the_limit": BadFile(
        "task1/episode_1.avi",
        declared_resolution(16_000, 16_000),
        r"^declared resolution 16000x16000 is over the limit of 8192 pixels a side",
    ),
    "resolution_beyond_ffmpeg": BadFile(
        "task1/episode_1.avi",
        declared_resolution(100_000, 100_000),
        r"^declared resolution is unusable .*too large to decode$",
    ),
    "random_bytes_named_mp4": BadFile(
        "task1/episode_1.mp4",
        random_bytes,
        r"^does not decode: not a video format FFmpeg recognises",
    ),
}


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def snapshot(settings) -> dict[str, object]:
    models = (Task, Episode, MediaAsset, Team, Submission, Clip)
    counts: dict[str, object] = {model.__name__: model.objects.count() for model in models}
    counts["files"] = stored_files(settings)
    return counts


@pytest.fixture(scope="module")
def good_clip(tmp_path_factory) -> Path:
    return write_video(tmp_path_factory.mktemp("good") / "episode_0.mp4", width=144, height=48)


@pytest.fixture
def with_references(campaign: Campaign, tmp_path: Path) -> Campaign:
    """A campaign whose task1 has reference episodes 0 and 1, for submissions to match."""
    write_reference_tree(tmp_path / "references", "single", episodes=(0, 1))
    reference_import(campaign=campaign, path=tmp_path / "references")
    return campaign


def run_import(kind: str, *, campaign: Campaign, path: Path, strict: bool = False):
    if kind == "reference":
        return reference_import(campaign=campaign, path=path, strict=strict)
    return submission_import(campaign=campaign, team_name="aurora", path=path, strict=strict)


def the_campaign(kind: str, request) -> Campaign:
    name = "campaign" if kind == "reference" else "with_references"
    return request.getfixturevalue(name)


def reason_for(report, name: str) -> str:
    reasons = dict(report.rejected)
    assert name in reasons, report.rejected
    # A reference names the camera file in front of the reason.
    return text(reasons[name]).removeprefix(f"{name}: ")


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["reference", "submission"])
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_media_file_is_rejected_with_its_reason_and_strict_writes_nothing(
    request, kind, case, good_clip, tmp_path, settings
):
    campaign = the_campaign(kind, request)
    bad = BAD_FILES[case]
    upload = tmp_path / "upload"
    (upload / "task1").mkdir(parents=True)
    shutil.copyfile(good_clip, upload / "task1/episode_0.mp4")
    bad.write(upload / bad.name)
    before = snapshot(settings)

    with pytest.raises(
        ImportRefused, match="1 file\\(s\\) rejected; strict import wrote nothing"
    ) as refused:
        run_import(kind, campaign=campaign, path=upload, strict=True)

    assert re.search(bad.reason, reason_for(refused.value.report, bad.name))
    assert snapshot(settings) == before  # not even the good clip

    report = run_import(kind, campaign=campaign, path=upload)

    assert re.search(bad.reason, reason_for(report, bad.name))
    assert report.accepted == ["task1/episode_0"]


# --- archives refused as a whole -------------------------------------------------------


def traversal_zip(path: Path, good: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(good, "task1/episode_0.mp4")
        archive.writestr("../../escape.mp4", good.read_bytes())
    return path


def bomb_zip(path: Path, good: Path) -> Path:
    """20 MiB of zeros that compress about a thousand to one."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(good, "task1/episode_0.mp4")
        archive.writestr("task1/episode_1.mp4", b"\0" * (20 * 1024 * 1024))
    return path


def lying_bomb_zip(path: Path, good: Path) -> Path:
    """A bomb whose headers claim 1,000 bytes, so that no ratio check sees it."""
    bomb_zip(path, good)
    data = bytearray(path.read_bytes())
    real = struct.pack("<I", 20 * 1024 * 1024)
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        while at != -1:
            if data[at + size_at : at + size_at + 4] == real:
                struct.pack_into("<I", data, at + size_at, 1000)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))
    return path


def long_name_zip(path: Path, good: Path) -> Path:
    """A folder name of 300 characters: no file system takes it."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(good, "task1/episode_0.mp4")
        archive.write(good, f"{'x' * 300}/task1/episode_1.mp4")
    return path


def clashing_zip(path: Path, good: Path) -> Path:
    """A file task1 and a file inside a folder task1."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("task1", b"not a folder")
        archive.write(good, "task1/episode_0.mp4")
    return path


def duplicate_member_zip(path: Path, good: Path) -> Path:
    """The same member name twice: extracting both would keep the second one silently."""
    with zipfile.ZipFile(path, "w") as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.write(good, "task1/episode_0.mp4")
        archive.writestr("task1/episode_0.mp4", b"another file")
    return path


BAD_ARCHIVES = {
    "long_name": (long_name_zip, r"name too long in archive: x{80}.*\(300 bytes in one name"),
    "file_and_folder_clash": (
        clashing_zip,
        r"task1 is both a file and the folder of task1/episode_0\.mp4",
    ),
    "duplicate_member": (
        duplicate_member_zip,
        r"duplicate member in archive: task1/episode_0\.mp4 appears more than once",
    ),
    "path_traversal": (traversal_zip, r"path escapes the archive: \.\./\.\./escape\.mp4"),
    "decompression_bomb": (bomb_zip, r"compression ratio \d+:1 looks like a decompression bomb"),
    "bomb_with_lying_headers": (
        lying_bomb_zip,
        r"corrupt archive member task1/episode_1\.mp4: .*header misstates its size",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["reference", "submission"])
@pytest.mark.parametrize("case", list(BAD_ARCHIVES))
def test_bad_archive_is_refused_as_a_whole_with_nothing_written(
    request, kind, case, good_clip, tmp_path, settings
):
    campaign = the_campaign(kind, request)
    write, reason = BAD_ARCHIVES[case]
    (tmp_path / "uploads").mkdir()
    archive = write(tmp_path / "uploads" / "upload.zip", good_clip)
    before = snapshot(settings)

    with pytest.raises(ImportRefused, match=reason):
        run_import(kind, campaign=campaign, path=archive)

    assert snapshot(settings) == before
    assert not (tmp_path / "escape.mp4").exists()


@pytest.mark.django_db
def test_an_archive_over_the_size_limit_is_refused(with_references, good_clip, tmp_path, settings):
    archive = bomb_zip(tmp_path / "big.zip", good_clip)
    settings.INGEST_MAX_ARCHIVE_BYTES = 10 * 1024 * 1024
    before = snapshot(settings)
    with pytest.raises(ImportRefused, match=r"archive expands to \d+ bytes, over the limit"):
        run_import("submission", campaign=with_references, path=archive)
    assert snapshot(settings) == before


# --- CSV files for the offline commands ------------------------------------------------
# No database here: the commands read files only.

RATINGS_HEADER = ("task", "team", "episode", "rater", "score", "comment")
VERDICTS_HEADER = ("task", "team", "episode", "score")
CLIPS = [
    (task, team, episode)
    for task in ("task1", "task2")
    for team in ("A", "B", "C")
    for episode in ("e1", "e2")
]


def rating_rows() -> list[list[str]]:
    rng = random.Random(3)
    return [
        [task, team, episode, rater, str(rng.randint(0, 3)), "fine, I think"]
        for task, team, episode in CLIPS
        for rater in ("r1", "r2", "r3")
    ]


def verdict_rows() -> list[list[str]]:
    rng = random.Random(4)
    return [[task, team, episode, str(rng.randint(0, 3))] for task, team, episode in CLIPS]


def episode_rows() -> list[list[str]]:
    return [[task, episode] for task in ("task1", "task2") for episode in ("e1", "e2")]


def write_csv(path: Path, header, rows, *, delimiter: str = ",", bom: bool = False) -> Path:
    def cell(value: str) -> str:
        return f'"{value}"' if delimiter in value or "," in value else value

    lines = [delimiter.join(cell(value) for value in row) for row in [list(header), *rows]]
    text = "\r\n".join(lines) + "\r\n"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    return path


@dataclass(frozen=True)
class Files:
    ratings: Path
    verdicts: Path
    episodes: Path


def files(tmp_path: Path, **options) -> Files:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return Files(
        ratings=write_csv(tmp_path / "ratings.csv", RATINGS_HEADER, rating_rows(), **options),
        verdicts=write_csv(tmp_path / "verdicts.csv", VERDICTS_HEADER, verdict_rows(), **options),
        episodes=write_csv(
            tmp_path / "episodes.csv", ("task", "episode"), episode_rows(), **options
        ),
    )


def rank(given: Files, output: Path) -> str:
    out = StringIO()
    call_command(
        "rank",
        f"--ratings={given.ratings}",
        f"--episodes={given.episodes}",
        f"--output={output}",
        "--bootstrap=50",
        stdout=out,
    )
    return out.getvalue()


def agreement(given: Files, output: Path) -> str:
    out = StringIO()
    call_command(
        "agreement",
        f"--ratings={given.ratings}",
        f"--judge={given.verdicts}",
        f"--episodes={given.episodes}",
        f"--output={output}",
        "--bootstrap=0",
        stdout=out,
    )
    return out.getvalue()


COMMANDS = {"rank": (rank, "rankings.csv"), "agreement": (agreement, "report.json")}


def drop_column(rows: list[list[str]], header, column: str):
    at = list(header).index(column)
    return [name for name in header if name != column], [row[:at] + row[at + 1 :] for row in rows]


def ratings_without_rater(given: Files) -> None:
    write_csv(given.ratings, *drop_column(rating_rows(), RATINGS_HEADER, "rater"))


def ratings_score(value: str) -> Callable[[Files], None]:
    def change(given: Files) -> None:
        rows = rating_rows()
        rows[3][4] = value  # line 5: the header is line 1
        write_csv(given.ratings, RATINGS_HEADER, rows)

    return change


def ratings_same_rater_twice(given: Files) -> None:
    rows = rating_rows()
    rows[2][3] = rows[0][3]  # line 4 repeats rater r1 of line 2 on the same clip
    write_csv(given.ratings, RATINGS_HEADER, rows)


def verdicts_without_score(given: Files) -> None:
    write_csv(given.verdicts, *drop_column(verdict_rows(), VERDICTS_HEADER, "score"))


def verdicts_score_out_of_range(given: Files) -> None:
    rows = verdict_rows()
    rows[1][3] = "5"
    write_csv(given.verdicts, VERDICTS_HEADER, rows)


def verdicts_twice_for_one_clip(given: Files) -> None:
    rows = verdict_rows()
    write_csv(given.verdicts, VERDICTS_HEADER, [*rows, rows[0]])


def episodes_without_episode(given: Files) -> None:
    write_csv(given.episodes, *drop_column(episode_rows(), ("task", "episode"), "episode"))


RATINGS_ERRORS = {
    "missing_column": (
        ratings_without_rater,
        r"^ratings\.csv, line 1, column 'rater': missing column \(the header has task, team",
    ),
    "score_above_3": (
        ratings_score("4"),
        r"^ratings\.csv, line 5, column 'score': score 4 is outside 0-3$",
    ),
    "score_below_0": (
        ratings_score("-1"),
        r"^ratings\.csv, line 5, column 'score': score -1 is outside 0-3$",
    ),
    "score_not_an_integer": (
        ratings_score("2.5"),
        r"^ratings\.csv, line 5, column 'score': '2\.5' is not an integer$",
    ),
    "same_rater_twice_for_one_clip": (
        ratings_same_rater_twice,
        r"^ratings\.csv, line 4, column 'rater': a rating of this clip by this rater "
        r"was already given on line 2$",
    ),
    "episodes_missing_column": (
        episodes_without_episode,
        r"^episodes\.csv, line 1, column 'episode': missing column",
    ),
}
VERDICTS_ERRORS = {
    "verdicts_missing_column": (
        verdicts_without_score,
        r"^verdicts\.csv, line 1, column 'score': missing column",
    ),
    "verdicts_score_above_3": (
        verdicts_score_out_of_range,
        r"^verdicts\.csv, line 3, column 'score': score 5 is outside 0-3$",
    ),
    "verdicts_twice_for_one_clip": (
        verdicts_twice_for_one_clip,
        rf"^verdicts\.csv, line {len(CLIPS) + 2}, column 'episode': a verdict on this clip "
        r"was already given on line 2$",
    ),
}
CSV_ERRORS = [
    pytest.param(command, *RATINGS_ERRORS[case], id=f"{command}-{case}")
    for command in COMMANDS
    for case in RATINGS_ERRORS
] + [
    pytest.param("agreement", *VERDICTS_ERRORS[case], id=f"agreement-{case}")
    for case in VERDICTS_ERRORS
]


@pytest.mark.parametrize(("command", "spoil", "message"), CSV_ERRORS)
def test_bad_csv_names_the_file_line_and_column_and_writes_no_output(
    tmp_path, command, spoil, message
):
    given = files(tmp_path / "in")
    spoil(given)
    run, name = COMMANDS[command]
    output = tmp_path / "out" / name

    with pytest.raises(CommandError) as error:
        run(given, output)

    assert re.search(message, str(error.value)), str(error.value)
    assert not output.exists() and not output.parent.exists()


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize(
    "options",
    [{"bom": True}, {"delimiter": ";"}, {"delimiter": ";", "bom": True}, {"delimiter": "\t"}],
    ids=["byte_order_mark", "semicolons", "semicolons_with_bom", "tabs"],
)
def test_spreadsheet_variants_are_read_like_plain_csv(tmp_path, command, options):
    run, name = COMMANDS[command]
    run(files(tmp_path / "plain"), tmp_path / "plain" / name)

    run(files(tmp_path / "variant", **options), tmp_path / "variant" / name)

    assert (tmp_path / "variant" / name).read_text() == (tmp_path / "plain" / name).read_text()


@pytest.mark.django_db
def test_a_campaign_beyond_the_models_limits_is_a_400_not_a_500(staff_api):
    response = staff_api.post(
        "/api/campaigns/",
        {"slug": "huge", "name": "Huge", "max_clips_per_rater": 2**63},
        format="json",
    )
    assert response.status_code == 400
    assert "max_clips_per_rater" in response.json()
    assert not Campaign.objects.filter(slug="huge").exists()
