"""Checks a file must pass before GDAL sees it: size, content signature, XML entities, zip contents.

Files come from operators, donors' consultants and the internet. GDAL opens files by *content*, not by
extension, and some of its drivers read other files or URLs (VRT, GDALG pipelines), so a hostile
upload named ``.csv`` could otherwise make the server read its own secrets. XML is parsed with the
standard library's expat up to the root element only, refusing entity declarations and external
DTDs (XXE, "billion laughs") before libkml ever parses the document. Zips are checked from their
central directory (paths, symlinks, member count, declared sizes, compression ratio) and extracted by
Python, which stops at the declared size, into a fresh temporary folder that is always removed.
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
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from xml.parsers import expat

from landrelease.errors import UnreadableFile, UnsafeFile

_GIB = 1024**3


@dataclass(frozen=True)
class Limits:
    """Upper bounds on what a single file may cost to read. Exceeding one raises ``UnsafeFile``."""

    max_file_bytes: int = 2 * _GIB
    max_uncompressed_bytes: int = 4 * _GIB
    max_members: int = 10_000
    #: Uncompressed / compressed size of one zip member; text compresses ~5-30x, bombs ~1000x.
    max_ratio: float = 200
    max_features: int = 5_000_000


DEFAULT_LIMITS = Limits()

#: Members smaller than this are not ratio-checked: a bomb needs size to hurt, and small padded DBF
#: files legitimately compress several hundred times.
RATIO_FLOOR_BYTES = 1024**2

_CHUNK = 1024**2
_HEAD = 64 * 1024

#: Content that makes GDAL open a *virtual* dataset, which may read other local files or URLs.
_VIRTUAL_MARKERS = (b"<ogrvrtdatasource", b"<vrtdataset", b"gdal_streamed_alg")


def human_bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def check_size(path: Path, limits: Limits) -> int:
    """The size of ``path``; refuse a missing, empty or oversized file."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise UnreadableFile(f"{path.name}: no such file") from None
    if not path.is_file():
        raise UnreadableFile(f"{path.name}: not a file")
    if size == 0:
        raise UnreadableFile(f"{path.name} is empty (0 bytes)")
    if size > limits.max_file_bytes:
        raise UnsafeFile(
            f"{path.name} is {human_bytes(size)}, more than the limit of {human_bytes(limits.max_file_bytes)}"
        )
    return size


def read_head(path: Path, n: int = _HEAD) -> bytes:
    with path.open("rb") as f:
        return f.read(n)


def refuse_virtual(path: Path, head: bytes) -> None:
    """Refuse GDAL virtual datasets hiding behind an ordinary extension."""
    lowered = head.lower()
    if any(marker in lowered for marker in _VIRTUAL_MARKERS):
        raise UnsafeFile(f"{path.name} is a GDAL virtual dataset, which can read other files: refused for safety")


def check_signature(path: Path, driver: str) -> None:
    """Check that the first bytes match the format the extension promises."""
    head = read_head(path)
    refuse_virtual(path, head)
    if driver == "GPKG":
        if not head.startswith(b"SQLite format 3\x00"):
            raise UnreadableFile(f"{path.name} is not a GeoPackage (it is not an SQLite database)")
        if head[68:72] not in (b"GPKG", b"GP10", b"GP11"):
            raise UnreadableFile(f"{path.name} is an SQLite database but not a GeoPackage")
    elif driver == "FlatGeobuf":
        if not head.startswith(b"fgb"):
            raise UnreadableFile(f"{path.name} is not a FlatGeobuf file")
    elif driver == "ESRI Shapefile":
        if not head.startswith(b"\x00\x00\x27\x0a"):
            raise UnreadableFile(f"{path.name} is not a Shapefile (.shp) geometry file")
    elif driver == "GeoJSON":
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not text.startswith(b"{"):
            raise UnreadableFile(f"{path.name} is not GeoJSON (a GeoJSON file starts with '{{')")
    elif driver == "CSV":
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if text.startswith(b"<"):
            raise UnreadableFile(f"{path.name} is not CSV: it looks like XML or a web page")
        if text.startswith(b"SQLite format 3\x00") or text.startswith(b"PK\x03\x04"):
            raise UnreadableFile(f"{path.name} is not CSV: it is a binary file")


# --- XML ----------------------------------------------------------------------------------------------


class _RootReached(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


class _Refused(Exception):
    pass


def check_xml(stream: IO[bytes], name: str) -> str:
    """Parse the XML prolog of ``stream`` and return the root element's local name.

    Refuses any entity declaration and any external DTD. Stops at the root element, so the cost does
    not depend on the size of the document; entities can only be declared before it.
    """
    parser = expat.ParserCreate()

    def doctype(doctype_name: str, system_id: str | None, public_id: str | None, internal: int) -> None:
        if system_id or public_id:
            raise _Refused("refers to an external document type definition (DTD)")

    def entity(*_: object) -> None:
        raise _Refused("declares XML entities")

    def external(*_: object) -> int:
        raise _Refused("refers to an external XML entity")

    def start(tag: str, _attrs: object) -> None:
        raise _RootReached(tag.rsplit(":", 1)[-1].rsplit("}", 1)[-1])

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.ExternalEntityRefHandler = external
    parser.StartElementHandler = start
    try:
        while chunk := stream.read(_HEAD):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _RootReached as root:
        return root.name
    except _Refused as why:
        raise UnsafeFile(
            f"{name} {why}, which can be used to read server files or exhaust memory: refused for safety"
        ) from None
    except (expat.ExpatError, ValueError, LookupError) as e:
        raise UnreadableFile(f"{name} is not valid XML: {e}") from None
    raise UnreadableFile(f"{name} holds no XML element")


def check_kml(stream: IO[bytes], name: str) -> None:
    """``check_xml``, then require a ``<kml>`` root (a GML or VRT file renamed .kml is refused)."""
    root = check_xml(stream, name)
    if root.lower() != "kml":
        raise UnreadableFile(f"{name} is not KML: its root element is <{root}>, not <kml>")


# --- zip ----------------------------------------------------------------------------------------------

_DRIVE = re.compile(r"^[A-Za-z]:")


def _member_parts(info: zipfile.ZipInfo, archive: str) -> tuple[str, ...]:
    raw = info.filename.replace("\\", "/")
    parts = tuple(p for p in raw.split("/") if p not in ("", "."))
    if raw.startswith("/") or _DRIVE.match(raw) or ".." in parts:
        raise UnsafeFile(
            f"{archive}: member {info.filename!r} points outside the archive's folder "
            "(a 'zip slip' attack): refused for safety"
        )
    return parts


def check_zip(zf: zipfile.ZipFile, archive: str, limits: Limits) -> list[zipfile.ZipInfo]:
    """Check every member of an open zip from its central directory; return the file members."""
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise UnsafeFile(f"{archive} holds {len(infos):,} files, more than the limit of {limits.max_members:,}")
    total = 0
    seen: set[tuple[str, ...]] = set()
    files: list[zipfile.ZipInfo] = []
    for info in infos:
        parts = _member_parts(info, archive)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UnsafeFile(f"{archive}: member {info.filename!r} is a symbolic link: refused for safety")
        if info.flag_bits & 0x1:
            raise UnreadableFile(f"{archive} is password-protected")
        if info.is_dir():
            continue
        if parts in seen:
            raise UnsafeFile(f"{archive} holds {info.filename!r} twice: refused for safety")
        seen.add(parts)
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR_BYTES and ratio > limits.max_ratio:
            raise UnsafeFile(
                f"{archive}: member {info.filename!r} expands {ratio:,.0f} times "
                f"(more than {limits.max_ratio:,.0f}), like a zip bomb: refused for safety"
            )
        files.append(info)
    if total > limits.max_uncompressed_bytes:
        raise UnsafeFile(
            f"{archive} expands to {human_bytes(total)}, more than the limit of "
            f"{human_bytes(limits.max_uncompressed_bytes)}"
        )
    return files


def open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise UnreadableFile(f"{path.name} is not a readable zip archive: {e}") from None


@contextmanager
def extracted_zip(path: Path, limits: Limits) -> Iterator[Path]:
    """Check the zip at ``path``, extract it into a fresh temporary folder and yield that folder.

    The folder and everything in it are removed when the block ends, whatever happens.
    """
    with open_zip(path) as zf:
        members = check_zip(zf, path.name, limits)
        folder = Path(tempfile.mkdtemp(prefix="landrelease-"))
        try:
            written = 0
            for info in members:
                target = folder.joinpath(*_member_parts(info, path.name))
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, target.open("xb") as dst:
                    while chunk := src.read(_CHUNK):
                        written += len(chunk)
                        if written > limits.max_uncompressed_bytes:
                            raise UnsafeFile(f"{path.name} expands beyond what its directory declares")
                        dst.write(chunk)
            yield folder
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as e:
            raise UnreadableFile(f"{path.name} is damaged: {e}") from None
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def check_xlsx(path: Path, limits: Limits) -> None:
    """An Excel workbook is a zip of XML parts: check the zip and every XML part's prolog."""
    with open_zip(path) as zf:
        members = check_zip(zf, path.name, limits)
        names = {m.filename for m in members}
        if "xl/workbook.xml" not in names:
            raise UnreadableFile(f"{path.name} is not an Excel workbook (.xlsx)")
        try:
            for info in members:
                if info.filename.endswith((".xml", ".rels")):
                    with zf.open(info) as part:
                        check_xml(part, f"{path.name}: {info.filename}")
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as e:
            raise UnreadableFile(f"{path.name} is damaged: {e}") from None
