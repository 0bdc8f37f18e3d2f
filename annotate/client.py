"""`refscore`: the command-line client of teams and organizers, over the HTTP API.

    refscore submit --campaign SLUG outputs.zip      (or a folder: it is zipped first)
    refscore status --campaign SLUG
    refscore final --campaign SLUG --version 3       (--newest to let the newest count)
    refscore results --campaign SLUG [--json] [--output FILE]
    refscore judge-pair --reference R --generated G [--campaign SLUG]

The server and the token come from --server/--token or REFSCORE_URL/REFSCORE_TOKEN (an
organizer issues tokens: `python manage.py api_token issue USER`). Standard library and tqdm
only, no Django: it runs on any machine with the package installed.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from tqdm import tqdm

CHUNK = 1024 * 1024
TERMINAL = ("done", "failed")


class ClientError(Exception):
    """A request the server refused or could not serve; ``exit_code`` for the shell."""

    exit_code = 1

    def __init__(self, message: str, *, status: int | None = None, body: Any = None):
        super().__init__(message)
        self.status, self.body = status, body


class AuthError(ClientError):
    """No token, a wrong one (401), or not allowed (403)."""

    exit_code = 3


class NotFoundError(ClientError):
    exit_code = 4


class RefusedError(ClientError):
    """The request was understood and refused (400, 413): the message says why."""

    exit_code = 2


class NotPublishedError(ClientError):
    exit_code = 5


class ServerError(ClientError):
    exit_code = 6


def _detail(body: Any) -> str:
    if isinstance(body, dict):
        if "detail" in body:
            detail = body["detail"]
            return "; ".join(detail) if isinstance(detail, list) else str(detail)
        return "; ".join(f"{key}: {value}" for key, value in body.items())
    return str(body)[:500]


def _error_for(status: int, body: Any) -> ClientError:
    message = f"HTTP {status}: {_detail(body)}"
    kind = {401: AuthError, 403: AuthError, 404: NotFoundError, 409: NotPublishedError}.get(
        status, RefusedError if 400 <= status < 500 else ServerError
    )
    return kind(message, status=status, body=body)


class _Multipart:
    """A multipart/form-data body streamed from files, reporting bytes sent to a bar."""

    def __init__(self, files: dict[str, Path], bar: tqdm | None) -> None:
        self.boundary = uuid.uuid4().hex
        self.files, self.bar = files, bar
        self.parts: list[tuple[bytes, Path]] = []
        for field, path in files.items():
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            head = (
                f"--{self.boundary}\r\n"
                f'Content-Disposition: form-data; name="{field}"; filename="{path.name}"\r\n'
                f"Content-Type: {kind}\r\n\r\n"
            ).encode()
            self.parts.append((head, path))
        self.tail = f"--{self.boundary}--\r\n".encode()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return sum(len(head) + path.stat().st_size + 2 for head, path in self.parts) + len(
            self.tail
        )

    def __iter__(self) -> Iterator[bytes]:
        for head, path in self.parts:
            yield head
            with path.open("rb") as handle:
                while piece := handle.read(CHUNK):
                    if self.bar is not None:
                        self.bar.update(len(piece))
                    yield piece
            yield b"\r\n"
        yield self.tail


class Client:
    """The API, one method per operation; errors raise a ``ClientError`` subclass."""

    def __init__(self, server: str, token: str, *, timeout: float = 600.0) -> None:
        if not token:
            raise AuthError("no API token: pass --token or set REFSCORE_TOKEN")
        self.server, self.token, self.timeout = server.rstrip("/"), token, timeout

    def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bool = False,
    ) -> Any:
        headers = {"Authorization": f"Token {self.token}", **(headers or {})}
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            self.server + path, data=body, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as exc:
            text = exc.read()
            try:
                parsed: Any = json.loads(text)
            except ValueError:
                parsed = text.decode(errors="replace")
            raise _error_for(exc.code, parsed) from None
        except urllib.error.URLError as exc:
            raise ServerError(f"cannot reach {self.server}: {exc.reason}") from None
        return payload if raw else json.loads(payload or b"null")

    def _upload(self, path: str, files: dict[str, Path], *, progress: bool) -> Any:
        total = sum(file.stat().st_size for file in files.values())
        with tqdm(
            total=total, unit="B", unit_scale=True, desc="upload", disable=not progress
        ) as bar:
            form = _Multipart(files, bar)
            return self._request(
                "POST",
                path,
                body=form,
                headers={"Content-Type": form.content_type, "Content-Length": str(len(form))},
            )

    def submissions(self, campaign: str) -> dict:
        return self._request("GET", f"/api/campaigns/{campaign}/submissions/")

    def submit(self, campaign: str, archive: Path, *, progress: bool = True) -> dict:
        return self._upload(
            f"/api/campaigns/{campaign}/submissions/", {"archive": archive}, progress=progress
        )

    def upload(self, campaign: str, job_id: int) -> dict:
        return self._request("GET", f"/api/campaigns/{campaign}/submissions/uploads/{job_id}/")

    def wait(
        self, campaign: str, report: dict, *, progress: bool = True, poll_s: float = 1.0
    ) -> dict:
        """Follow an upload's import until it is done or failed."""
        with tqdm(total=report.get("total") or None, desc="check", disable=not progress) as bar:
            while report["status"] not in TERMINAL:
                time.sleep(poll_s)
                report = self.upload(campaign, report["id"])
                bar.total = report["total"] or bar.total
                bar.n = report["done"]
                bar.refresh()
        return report

    def final(self, campaign: str, version: int | None) -> dict:
        return self._request(
            "PUT", f"/api/campaigns/{campaign}/submissions/final/", json_body={"version": version}
        )

    def results(self, campaign: str) -> dict:
        return self._request("GET", f"/api/campaigns/{campaign}/results/")

    def judge_pair(self, reference: Path, generated: Path, *, campaign: str | None = None) -> dict:
        """A team checks its pair on its campaign's endpoint; an organizer on the judge's."""
        path = f"/api/campaigns/{campaign}/judge/pair/" if campaign else "/api/judge/pair/"
        return self._upload(path, {"reference": reference, "generated": generated}, progress=False)


def zipped(folder: Path, out: BinaryIO) -> None:
    """A folder's files into a zip with their paths relative to it (videos not recompressed)."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())


def _print_report(report: dict, out) -> None:
    print(f"upload #{report['id']}: {report['status']}", file=out)
    if report.get("error"):
        print(f"  error: {report['error']}", file=out)
    if report.get("version"):
        print(f"  version {report['version']}", file=out)
    for key in report.get("accepted", []):
        print(f"  accepted  {key}", file=out)
    for item in report.get("skipped", []):
        print(f"  skipped   {item['file']}: {item['reason']}", file=out)
    for item in report.get("rejected", []):
        print(f"  rejected  {item['file']}: {item['reason']}", file=out)
    for key in report.get("missing", []):
        print(f"  missing   {key} (counts 0 if rated)", file=out)
    if report.get("awaiting_confirmation"):
        dropped = ", ".join(report.get("dropped", []))
        print(f"  waits for the organizers' confirmation: it lacks {dropped}", file=out)


def _print_results(data: dict, out) -> None:
    standing = data.get("standing")
    if standing is None:
        print(f"{data['team']}: no rated submission", file=out)
    else:
        print(
            f"{data['team']}: rank {standing['rank']} of {data['n_teams']}, final "
            f"{standing['final_score']:.3f} [{standing['ci_low']:.3f}, {standing['ci_high']:.3f}]",
            file=out,
        )
        for cell in standing["tasks"]:
            print(
                f"  {cell['task']}: {cell['score']:.3f} [{cell['ci_low']:.3f}, "
                f"{cell['ci_high']:.3f}] N3={cell['n3']} N2={cell['n2']} N1={cell['n1']} "
                f"N0={cell['n0']} missing={cell['n_missing']} N_total={cell['n_total']}",
                file=out,
            )
    for clip in data["clips"]:
        score = "0 (not submitted)" if not clip["submitted"] else clip["clip_score"]
        print(f"  {clip['task']}/{clip['episode']}: {score}", file=out)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="refscore", description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=os.environ.get("REFSCORE_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--token", default=os.environ.get("REFSCORE_TOKEN", ""))
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    commands = parser.add_subparsers(dest="command", required=True)
    submit = commands.add_parser("submit", help="upload a zip or a folder as a new version")
    submit.add_argument("--campaign", required=True)
    submit.add_argument("path", type=Path)
    submit.add_argument("--no-wait", action="store_true", help="do not follow the import")
    status = commands.add_parser("status", help="versions and latest uploads of your team")
    status.add_argument("--campaign", required=True)
    final = commands.add_parser("final", help="choose the version that counts")
    final.add_argument("--campaign", required=True)
    which = final.add_mutually_exclusive_group(required=True)
    which.add_argument("--version", type=int)
    which.add_argument("--newest", action="store_true")
    results = commands.add_parser("results", help="your team's results, once published")
    results.add_argument("--campaign", required=True)
    results.add_argument("--json", action="store_true")
    results.add_argument("--output", type=Path, help="also save them to this JSON file")
    judge = commands.add_parser("judge-pair", help="score one pair with the baseline judge")
    judge.add_argument("--reference", type=Path, required=True)
    judge.add_argument("--generated", type=Path, required=True)
    judge.add_argument("--campaign", help="as a team: the campaign that offers the judge")
    return parser


def _run(args: argparse.Namespace, out) -> int:
    client = Client(args.server, args.token)
    progress = not args.quiet
    if args.command == "submit":
        path: Path = args.path
        if not path.exists():
            raise RefusedError(f"{path} does not exist")
        with tempfile.TemporaryDirectory(prefix="refscore-") as folder:
            if path.is_dir():
                archive = Path(folder) / f"{path.name or 'submission'}.zip"
                with archive.open("wb") as handle:
                    zipped(path, handle)
                path = archive
            report = client.submit(args.campaign, path, progress=progress)
        if not args.no_wait:
            report = client.wait(args.campaign, report, progress=progress)
        _print_report(report, out)
        return 0 if report["status"] != "failed" else RefusedError.exit_code
    if args.command == "status":
        data = client.submissions(args.campaign)
        print(json.dumps(data, indent=2), file=out)
        return 0
    if args.command == "final":
        data = client.final(args.campaign, None if args.newest else args.version)
        rated = next((row for row in data["versions"] if row["is_rated"]), None)
        print(f"version {rated['version'] if rated else '-'} counts", file=out)
        return 0
    if args.command == "results":
        data = client.results(args.campaign)
        if args.output:
            args.output.write_text(json.dumps(data, indent=2))
        if args.json:
            print(json.dumps(data, indent=2), file=out)
        else:
            _print_results(data, out)
        return 0
    verdict = client.judge_pair(args.reference, args.generated, campaign=args.campaign)
    print(json.dumps(verdict, indent=2), file=out)
    return 0


def main(argv: Sequence[str] | None = None, *, out=None, err=None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    args = _parser().parse_args(argv)
    try:
        return _run(args, out)
    except ClientError as exc:
        print(f"refscore: {type(exc).__name__}: {exc}", file=err)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
