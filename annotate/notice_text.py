"""What each notice says, in the reader's language: the one table of their sentences.

A notice (``annotate.notice``) is a code and its parameters, produced by the planner,
the ingest, the media checks and the services, and kept as such wherever it is stored
(an import's report and error, a media asset's error). It becomes a sentence only when
shown: `text` says it in the active language, which is the reader's on a page or an API
response (Accept-Language; English by default) and English in a management command.
Templates use the filter ``{% load notices %}{{ value|notice }}``; API serializers use
``annotate.api.fields.NoticeField``.

Text stored before notices existed is shown as it is; an unknown code, or parameters
that do not fit its sentence, show the code and parameters rather than fail a page.
Every declared code has an entry here (a test compares `TEXTS` with
``annotate.notice.known_codes()``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from annotate.notice import Notice, as_notice

logger = logging.getLogger(__name__)

TEXTS: dict[str, Promise] = {
    # --- the assignment planner (annotate.planner) and its service --------------------
    "plan.cell_short_of_raters": _(
        "team %(team)r, task %(task)r: %(raters)s of %(wanted)s raters "
        "(not enough eligible annotators)"
    ),
    "plan.clips_without_rater": _(
        "team %(team)r, task %(task)r: %(unrated)s of %(clips)s clips have no rater"
    ),
    "plan.gold_short": _(
        "%(annotator)r: %(held)s of %(quota)s gold clips (too few gold clips outside their "
        "own team and the clips they already hold)"
    ),
    "plan.roster_left_out": _("%(user)r is on the roster but inactive or staff: left out"),
    "plan.media_not_ready": _(
        "%(n)s clip(s) left out: their media (or their reference's) is not ready; they are "
        "planned once it is"
    ),
    "plan.roster_empty": _("the roster has no annotator: add annotators before planning"),
    "gold.held_excluded": _(
        "gold clip %(clip)s (%(task)s/%(episode)s, %(team)s) is put into no queue: it was "
        "excluded after a problem report (reopen the report to use it again)"
    ),
    "gold.held_reported": _(
        "gold clip %(clip)s (%(task)s/%(episode)s, %(team)s) is put into no queue while its "
        "problem report is open; it is used again once the report is marked fixed"
    ),
    # Why a clip stayed with its annotator when their pending work was moved.
    "move.receiver_in_team": _("%(annotator)r belongs to team %(team)r"),
    "move.receiver_rates_clip": _("%(annotator)r already rates this clip"),
    "move.receiver_cell_full": _(
        "%(annotator)r already has %(cap)s clips of team %(team)r, task %(task)r"
    ),
    # --- files of an upload (annotate.ingest) ------------------------------------------
    "file.hidden": _("hidden file"),
    "file.not_video": _("not a video"),
    "file.debug": _("debug file (concat_*)"),
    "file.unknown_layout": _("not in a known layout"),
    "file.given_twice": _("%(episode)s is given more than once: %(files)s"),
    "file.single_and_cameras": _("%(episode)s has both a single clip and camera files: %(files)s"),
    # --- an archive refused as a whole (annotate.ingest) --------------------------------
    "archive.too_many_members": _("archive has %(members)s members, over the limit of %(limit)s"),
    "archive.absolute_path": _("absolute path in archive: %(name)s"),
    "archive.path_escapes": _("path escapes the archive: %(name)s"),
    "archive.link": _("link in archive: %(name)s"),
    "archive.too_large": _("archive expands to %(size)s bytes, over the limit of %(limit)s"),
    "archive.bomb": _("archive compression ratio %(ratio).0f:1 looks like a decompression bomb"),
    "archive.name_too_long": _(
        "name too long in archive: %(name)s… (%(bytes)s bytes in one name, at most %(limit)s)"
    ),
    "archive.duplicate_member": _("duplicate member in archive: %(name)s appears more than once"),
    "archive.file_is_folder": _(
        "member clashes with a folder in archive: %(name)s is both a file and the folder "
        "of %(inner)s"
    ),
    "archive.folder_is_file": _(
        "member clashes with a file in archive: %(name)s is both a file and the folder of %(inner)s"
    ),
    "archive.not_zip": _("not a valid zip archive: %(detail)s"),
    "archive.inflates": _("archive inflates past its declared size"),
    "archive.corrupt_member": _(
        "corrupt archive member %(name)s: %(detail)s (damaged, or its header misstates its size)"
    ),
    "archive.encrypted_member": _("archive member %(name)s is encrypted"),
    "archive.unreadable_member": _("archive member %(name)s cannot be read (%(detail)s)"),
    "archive.unextractable_member": _("cannot extract archive member %(name)s: %(detail)s"),
    "archive.missing": _("no such file or folder: %(path)s"),
    "archive.not_folder_or_zip": _("%(name)s is neither a folder nor a zip archive"),
    # --- a video refused (annotate.media, annotate.services.assets) ----------------------
    "media.empty": _("empty file"),
    "media.too_big": _("file is %(size)s bytes, over the limit of %(limit)s"),
    "media.truncated_in_header": _(
        "truncated: the file ends inside a box header at byte %(offset)s"
    ),
    "media.truncated_in_large_header": _("truncated: the file ends inside the %(box)r box header"),
    "media.corrupt_box": _("corrupt MP4: box %(box)r at byte %(offset)s declares %(size)s bytes"),
    "media.truncated_box": _(
        "truncated: the %(box)r box declares %(size)s bytes but the file ends %(short)s bytes short"
    ),
    "media.no_frames": _("no frames"),
    "media.unrecognised": _("does not decode: not a video format FFmpeg recognises (%(detail)s)"),
    "media.does_not_decode": _("does not decode: %(detail)s"),
    "media.not_container": _(
        "not a video container: FFmpeg reads it as %(format)s (%(what)s); send MP4, MOV, "
        "Matroska, WebM or AVI"
    ),
    # What FFmpeg read instead of a video (the parenthesis of media.not_container).
    "media.format_image": pgettext_lazy("file kind", "an image"),
    "media.format_other": pgettext_lazy("file kind", "not a video file"),
    "media.no_video_stream": _("no video stream"),
    "media.too_long": _("clip lasts %(duration).1f s, over the limit of %(limit).0f s"),
    "media.decoding_fails": _("decoding fails after frame %(frame)s: %(detail)s"),
    "media.single_frame": _("a single frame: a still image, not a video"),
    "media.rotation": _("rotated by %(degrees)s degrees: only quarter turns can be applied"),
    "media.size_unusable": _(
        "%(what)s resolution is unusable (FFmpeg reads %(width)sx%(height)s): missing, or "
        "too large to decode"
    ),
    "media.size_too_small": _(
        "%(what)s resolution %(width)sx%(height)s is under the minimum of %(min)sx%(min)s pixels"
    ),
    "media.size_too_large": _(
        "%(what)s resolution %(width)sx%(height)s is over the limit of %(max_side)s pixels "
        "a side and %(max_pixels)s pixels a frame"
    ),
    # Whose resolution a size notice is about (the %(what)s of the three above).
    "media.declared": pgettext_lazy("resolution of", "declared"),
    "media.decoded_frame": pgettext_lazy("resolution of", "decoded frame"),
    "media.composite": pgettext_lazy("resolution of", "side-by-side composite"),
    "media.too_small_to_encode": _("a %(width)sx%(height)s picture is too small to encode"),
    "media.not_playable": _("cannot be made playable in browsers: %(detail)s"),
    "media.not_composited": _("cameras cannot be composited: %(detail)s"),
    "media.copy_came_out": _(
        "the playable copy came out as %(codec)s/%(pix_fmt)s, rotated %(rotation)s degrees"
    ),
    "media.copy_does_not_probe": _("the playable copy does not probe: %(reason)s"),
    "media.file_error": _("file error: %(detail)s"),
    # --- an import (annotate.services.imports) -----------------------------------------
    "import.camera_file": _("%(file)s: %(reason)s"),
    "import.os_error": _("could not be processed: %(detail)s"),
    "import.unexpected": _("cannot be imported: %(error)s: %(detail)s"),
    "import.rated_reference": _(
        "%(episode)s already has %(n)s rating(s) made against its current reference, which "
        "is therefore not replaced"
    ),
    "import.no_episode": _("no reference episode %(episode)s in this campaign"),
    "import.path_too_long": _("path inside the upload has %(length)s characters, at most %(max)s"),
    "import.reference_replaced": _(
        "reference replaced (no ratings yet); the previous file %(previous)s is kept in the "
        "episode's history"
    ),
    "import.strict_refused": _("%(n)s file(s) rejected; strict import wrote nothing"),
    "import.nothing_accepted": _("no file was accepted; nothing was written"),
    "import.rated_during_import": _("%(episode)s was rated during the import; nothing was written"),
    "import.worker_stopped": _("the worker running this import stopped; nothing was written"),
    "import.stopped": _("the import stopped: %(error)s: %(detail)s; nothing was written"),
    "import.interrupted": _("the import was interrupted (%(error)s); nothing was written"),
}


def text(value: object) -> str:
    """`value` said in the active language: a notice (or one stored as JSON) through its
    sentence, text as it is, None as ""."""
    found = as_notice(value)
    if isinstance(found, str):
        return found
    sentence = TEXTS.get(found.code)
    params = {name: _param(item) for name, item in found.params.items()}
    if sentence is None:
        logger.warning("notice %r has no sentence", found.code)
        return _plain(found.code, params)
    try:
        return str(sentence) % params
    except (KeyError, TypeError, ValueError):
        logger.warning("notice %r: parameters %r do not fit its sentence", found.code, params)
        return _plain(found.code, params)


def texts(values) -> list[str]:
    """Each of `values` (notices or text) said in the active language."""
    return [text(value) for value in values or ()]


def shown(value: object) -> object:
    """A copy of stored JSON (an import's report, say) with every notice in it said as text."""
    if isinstance(value, Notice) or Notice.from_json(value) is not None:
        return text(value)
    if isinstance(value, Mapping):
        return {key: shown(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [shown(item) for item in value]
    return value


def _param(value: object) -> object:
    if isinstance(value, Notice) or Notice.from_json(value) is not None:
        return text(value)
    return value


def _plain(code: str, params: Mapping[str, object]) -> str:
    if not params:
        return code
    return f"{code} (" + ", ".join(f"{k}={v}" for k, v in sorted(params.items())) + ")"
