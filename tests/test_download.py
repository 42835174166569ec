"""Model download and install against a local HTTP server on 127.0.0.1 (no internet needed)."""

from __future__ import annotations

import hashlib
import http.server
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from skill.speech_in.download import ENGLISH_MODEL, DownloadError, download, install_model_zip


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files with Range support; `cut_after` bytes into a full response it drops."""

    cut_after: int | None = None
    ranges_seen: list[str] = []  # noqa: RUF012 (class-level on purpose: shared with the test)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        header = self.headers.get("Range")
        start = 0
        if header:
            self.ranges_seen.append(header)
            start = int(header.removeprefix("bytes=").split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        cut = type(self).cut_after
        if cut is not None and not header:
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.connection.shutdown(2)  # the link drops mid-file
            return
        self.wfile.write(body)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    RangeHandler.cut_after = None
    RangeHandler.ranges_seen = []

    def handler(*args: object) -> RangeHandler:
        return RangeHandler(*args, directory=str(root))  # type: ignore[arg-type]

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()
    httpd.server_close()


def make_model_zip(path: Path, name: str = "vosk-model-tiny", extra: bytes = b"") -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{name}/am/final.mdl", b"acoustic model" * 5000 + extra)
        z.writestr(f"{name}/conf/model.conf", "--beam=10.0\n")
        z.writestr(f"{name}/graph/words.txt", "stop 1\n")
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_verifies_and_renames(server: tuple[str, Path], tmp_path: Path) -> None:
    url, root = server
    src = make_model_zip(root / "m.zip")
    dest = tmp_path / "data" / "m.zip"
    got = download(f"{url}/m.zip", dest, src.stat().st_size, sha(src), progress=False)
    assert got == dest and dest.read_bytes() == src.read_bytes()
    assert not dest.with_name("m.zip.part").exists()


def test_download_resumes_after_a_cut(server: tuple[str, Path], tmp_path: Path) -> None:
    url, root = server
    src = make_model_zip(root / "m.zip")
    dest = tmp_path / "m.zip"
    RangeHandler.cut_after = 20000
    with pytest.raises(DownloadError):
        download(f"{url}/m.zip", dest, src.stat().st_size, sha(src), progress=False)
    kept = (tmp_path / "m.zip.part").stat().st_size
    assert 0 < kept <= 20000 < src.stat().st_size
    download(f"{url}/m.zip", dest, src.stat().st_size, sha(src), progress=False)
    assert RangeHandler.ranges_seen == [f"bytes={kept}-"]  # only the rest was fetched
    assert dest.read_bytes() == src.read_bytes()


def test_checksum_mismatch_is_refused_and_the_bad_file_removed(
    server: tuple[str, Path], tmp_path: Path
) -> None:
    url, root = server
    src = make_model_zip(root / "m.zip")
    dest = tmp_path / "m.zip"
    with pytest.raises(DownloadError, match="sha256"):
        download(f"{url}/m.zip", dest, src.stat().st_size, "0" * 64, progress=False)
    assert not dest.exists() and not (tmp_path / "m.zip.part").exists()


def test_offline_says_how_to_install_by_hand(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=r"setup --model-zip FILE"):
        download("http://127.0.0.1:9/m.zip", tmp_path / "m.zip", 10, "0" * 64, progress=False)


def test_install_unpacks_and_replaces_atomically(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = install_model_zip(make_model_zip(tmp_path / "a.zip"), data)
    assert first == data / "vosk-model-tiny"
    assert (first / "am" / "final.mdl").is_file()
    second = install_model_zip(make_model_zip(tmp_path / "b.zip", extra=b"v2"), data)
    assert (second / "am" / "final.mdl").read_bytes().endswith(b"v2")
    assert sorted(p.name for p in data.iterdir()) == ["vosk-model-tiny"]  # no temp left


def test_install_refuses_a_zip_that_is_not_a_model(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("thing/readme.txt", "hello")
    data = tmp_path / "data"
    old = install_model_zip(make_model_zip(tmp_path / "a.zip"), data)
    with pytest.raises(DownloadError, match="not a Vosk model"):
        install_model_zip(bad, data)
    assert (old / "am" / "final.mdl").is_file()  # the installed model is untouched
    assert sorted(p.name for p in data.iterdir()) == ["vosk-model-tiny"]


def test_install_refuses_paths_outside_the_folder(tmp_path: Path) -> None:
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("m/am/final.mdl", "x")
        z.writestr("m/../../escape.txt", "x")
    with pytest.raises(DownloadError, match="unsafe path"):
        install_model_zip(evil, tmp_path / "data")
    assert not (tmp_path / "escape.txt").exists()


def test_not_a_zip_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_text("<html>captive portal</html>")
    with pytest.raises(DownloadError, match="not a readable zip"):
        install_model_zip(junk, tmp_path / "data")


def test_english_model_constants() -> None:
    assert ENGLISH_MODEL.url.endswith(f"/{ENGLISH_MODEL.name}.zip")
    assert ENGLISH_MODEL.size == 41205931 and len(ENGLISH_MODEL.sha256) == 64
