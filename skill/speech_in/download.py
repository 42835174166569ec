"""Fetching and installing the English Vosk model: resumable, verified, unpacked atomically.

A Pi on a flaky Wi-Fi link must be able to resume a 41 MB download, and a half-written
model folder must never be mistaken for a model, so: HTTP Range onto a `.part` file, size
and sha256 checked before the file gets its real name, and the zip unpacked into a
temporary folder that is renamed into place in one step.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from skill.errors import DownloadError

CHUNK = 1 << 16
TIMEOUT_S = 30


@dataclass(frozen=True)
class ModelArchive:
    name: str  # the folder inside the zip, and the folder name in the data directory
    url: str
    size: int
    sha256: str
    licence: str


ENGLISH_MODEL = ModelArchive(
    name="vosk-model-small-en-us-0.15",
    url="https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
    size=41205931,
    sha256="30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498",
    licence="Apache-2.0",
)


def _offline_message(url: str, dest: Path, err: object) -> str:
    return (
        f"cannot download {url} ({err}). With no network here, fetch the file on another "
        f"computer, copy it to {dest} (or anywhere) and run "
        f"`stretch-coach setup --model-zip FILE`"
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path, size: int | None, sha256: str) -> None:
    """Raise DownloadError unless the file has this sha256 (and size, when known)."""
    actual = path.stat().st_size
    if size is not None and actual != size:
        raise DownloadError(f"{path}: {actual} bytes, expected {size}; delete it and retry")
    digest = sha256_of(path)
    if digest != sha256:
        raise DownloadError(
            f"{path}: sha256 {digest} does not match the expected {sha256}; "
            "the file is damaged or not the right one: delete it and retry"
        )


def _open(url: str, offset: int) -> tuple[object, int]:
    """(response, offset it starts at): the server may ignore Range and send everything."""
    request = urllib.request.Request(url, headers={"User-Agent": "stretch-coach"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    start = offset if response.status == 206 else 0
    return response, start


def download(url: str, dest: Path, size: int | None, sha256: str, progress: bool = True) -> Path:
    """Fetch `url` to `dest`, resuming a `dest.part` left by an earlier try; verified.

    `size` may be None when the publisher gives only a checksum (Piper voices).
    """
    from tqdm import tqdm

    if dest.is_file():
        verify(dest, size, sha256)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:
        part.unlink()
        have = 0
    if size is None or have < size:
        try:
            response, start = _open(url, have)
        except urllib.error.HTTPError as err:
            if err.code == 416:  # range past the end: the .part is bad
                part.unlink(missing_ok=True)
            raise DownloadError(f"{url}: server answered {err.code} {err.reason}") from err
        except (urllib.error.URLError, OSError) as err:
            raise DownloadError(_offline_message(url, dest, err)) from err
        with (
            response,  # type: ignore[attr-defined]
            part.open("ab" if start else "wb") as out,
            tqdm(
                total=size,
                initial=start,
                unit="B",
                unit_scale=True,
                desc=dest.name,
                disable=not progress,
            ) as bar,
        ):
            try:
                for block in iter(lambda: response.read1(CHUNK), b""):  # type: ignore[attr-defined]
                    out.write(block)
                    bar.update(len(block))
            except (OSError, http.client.HTTPException) as err:
                raise DownloadError(
                    f"download of {url} was cut off ({err}); run the same command again "
                    "to resume where it stopped"
                ) from err
    if size is not None and part.stat().st_size < size:  # closed early: keep what we have
        raise DownloadError(
            f"download of {url} stopped at {part.stat().st_size} of {size} bytes; run the same "
            "command again to resume where it stopped"
        )
    try:
        verify(part, size, sha256)
    except DownloadError:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, dest)
    return dest


def install_model_zip(
    zip_path: Path,
    data_dir: Path,
    name: str | None = None,
    check: Callable[[Path], None] | None = None,
) -> Path:
    """Unpack a Vosk model zip into `data_dir/<name or the folder in the zip>`, atomically.

    `check` is given the unpacked folder before it takes its place; whatever it raises leaves
    the data directory as it was (the unpacked files are removed).
    """
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as err:
        raise DownloadError(f"{zip_path}: not a readable zip file ({err})") from err
    with archive:
        tops = {Path(name).parts[0] for name in archive.namelist() if name.strip("/")}
        if len(tops) != 1:
            raise DownloadError(
                f"{zip_path}: expected one model folder inside, found {sorted(tops)[:5]}"
            )
        top = tops.pop()
        if top in ("..", "/") or top.startswith("/"):
            raise DownloadError(f"{zip_path}: unsafe path {top!r} inside")
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=data_dir))
        try:
            for member in archive.infolist():
                target = (tmp / member.filename).resolve()
                if not target.is_relative_to(tmp.resolve()):
                    raise DownloadError(f"{zip_path}: unsafe path {member.filename!r} inside")
            archive.extractall(tmp)
            unpacked = tmp / top
            if not (unpacked / "am" / "final.mdl").is_file():
                raise DownloadError(f"{zip_path}: no am/final.mdl inside: not a Vosk model zip")
            if check is not None:
                check(unpacked)
            final = data_dir / (name or top)
            if final.exists():  # a directory cannot replace a non-empty one: move it aside
                os.replace(final, tmp / ".old")
            os.replace(unpacked, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def install_english_model(data_dir: Path, progress: bool = True) -> Path:
    """Download (or resume) and install the English model; returns the model folder."""
    zip_path = data_dir / f"{ENGLISH_MODEL.name}.zip"
    m = ENGLISH_MODEL
    download(m.url, zip_path, m.size, m.sha256, progress=progress)
    folder = install_model_zip(zip_path, data_dir)
    zip_path.unlink(missing_ok=True)
    return folder
