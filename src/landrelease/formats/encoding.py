"""Which text encoding a CSV or a Shapefile's DBF is in.

Field offices save spreadsheets from Excel in the Windows code page (cp1251 in Ukraine, cp1252 or
cp1250 elsewhere), as UTF-8 with or without a byte-order mark, or as "Unicode text" (UTF-16).
Shapefiles carry their encoding in a ``.cpg`` sidecar when the writer was careful; GDAL otherwise
falls back to ISO-8859-1 and Cyrillic comes out as mojibake. So: trust a BOM, then a ``.cpg``,
then strict UTF-8, and only then ask charset-normalizer, feeding it just the bytes that are not
ASCII (plus their words) so that a big file's ASCII numbers do not drown the signal.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import charset_normalizer

_SAMPLE_LIMIT = 256 * 1024
_CHUNK = 1024**2
#: A run of bytes containing at least one non-ASCII byte, with the rest of its word.
_NON_ASCII_WORD = re.compile(rb"[^\x00-\x20,;\t|\"']*[\x80-\xff][^\x00-\x20,;\t|\"']*")

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def bom_encoding(head: bytes) -> str | None:
    """The encoding a byte-order mark at the start of ``head`` announces, if any."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return None


def _looks_utf16(head: bytes) -> str | None:
    """UTF-16 without a BOM. Text in an 8-bit encoding has no zero bytes; UTF-16 has one in every
    ASCII character (newlines, separators, digits), on the odd side in little-endian."""
    sample = head[: len(head) - len(head) % 2]
    if b"\x00" not in sample:
        return None
    odd, even = sample[1::2].count(0), sample[0::2].count(0)
    for name in ("utf-16-le", "utf-16-be") if odd >= even else ("utf-16-be", "utf-16-le"):
        try:
            text = sample.decode(name)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return name
    return None


def _non_ascii_sample(chunks: Iterator[bytes]) -> bytes:
    """Words containing non-ASCII bytes, up to ``_SAMPLE_LIMIT`` bytes, joined by spaces."""
    found: list[bytes] = []
    size = 0
    carry = b""
    for chunk in chunks:
        data = carry + chunk
        # keep the trailing partial word for the next chunk so no character is cut in two
        cut = max(data.rfind(b" "), data.rfind(b"\n"), data.rfind(b","), data.rfind(b";"))
        data, carry = (data[: cut + 1], data[cut + 1 :]) if cut >= 0 else (b"", data)
        if len(carry) > _CHUNK:
            data, carry = data + carry, b""
        for word in _NON_ASCII_WORD.findall(data):
            found.append(word)
            size += len(word) + 1
        if size >= _SAMPLE_LIMIT:
            break
    else:
        found.extend(_NON_ASCII_WORD.findall(carry))
    return b" ".join(found)


def _read_chunks(f: IO[bytes], start: int = 0) -> Iterator[bytes]:
    f.seek(start)
    while chunk := f.read(_CHUNK):
        yield chunk


#: The encodings considered: single-byte code pages of the countries where mine action works (Europe,
#: the Middle East, Latin America), plus old DOS ones found in DBFs. Multi-byte East Asian encodings
#: and Mac code pages are left out: on short samples they "fit" Cyrillic bytes better than cp1251 does.
_CANDIDATES = [
    "utf_8", "cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1256", "cp1257", "iso8859_1", "iso8859_2",
    "iso8859_5", "iso8859_6", "iso8859_7", "iso8859_9", "iso8859_13", "iso8859_15", "iso8859_16", "koi8_r",
    "koi8_u", "cp866", "cp852", "cp850",
]  # fmt: skip

_ODD_CATEGORIES = {"Sc", "Sk", "So", "Sm", "No", "Cc", "Co", "Cn"}

#: Tie-break between equally likely encodings, most used in the field first.
_PREFERRED = ("utf_8", "cp1252", "cp1251", "cp1250", "iso8859_1", "iso8859_2", "iso8859_5", "koi8_u", "koi8_r")


def _oddities(text: str) -> int:
    """Marks of a wrong code page in decoded text: symbols and controls (``£ódŸ`` for Polish read as
    Western European), and words made only of accented Latin letters (``Õàðê³â`` for ``Харків``):
    real Latin-script words mix accented letters with plain ones."""
    odd = sum(1 for ch in text if unicodedata.category(ch) in _ODD_CATEGORIES and ch not in "\t\r\n°")
    if re.search("[šžŠŽ]", text):
        # č ć đ (cp1250) read as cp1252 give è æ ð; next to š and ž that is Bosnian, not French
        odd += len(re.findall("[èæðÈÆÐ]", text))
    for word in re.findall(r"[^\W\d_]{3,}", text):
        if all(not c.isascii() and unicodedata.name(c, "").startswith("LATIN") for c in word):
            odd += 1
    return odd


def detect_bytes_encoding(sample: bytes) -> str:
    """The most likely encoding of ``sample`` (non-ASCII words). Pure ASCII counts as UTF-8."""
    if not sample:
        return "utf-8"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    matches = list(charset_normalizer.from_bytes(sample, cp_isolation=_CANDIDATES))
    if not matches:
        # Undecidable: the Windows Latin code page decodes every byte, so nothing is lost.
        return "cp1252"

    def rank(m: charset_normalizer.CharsetMatch) -> tuple[int, float, float, int]:
        preference = _PREFERRED.index(m.encoding) if m.encoding in _PREFERRED else len(_PREFERRED)
        return _oddities(str(m)), round(m.chaos, 2), -round(m.coherence, 2), preference

    return codecs.lookup(min(matches, key=rank).encoding).name


def detect_text_encoding(path: Path) -> str:
    """The encoding of a text file such as a CSV (a Python codec name)."""
    with path.open("rb") as f:
        head = f.read(4096)
        found = bom_encoding(head) or _looks_utf16(head)
        if found:
            return found
        return detect_bytes_encoding(_non_ascii_sample(_read_chunks(f)))


_CPG_ALIASES = {
    "65001": "utf-8",
    "UTF8": "utf-8",
    "ANSI": "cp1252",
    "88591": "iso8859-1",
    "88592": "iso8859-2",
    "88595": "iso8859-5",
    "885915": "iso8859-15",
    "KOI8R": "koi8-r",
    "KOI8U": "koi8-u",
}


def cpg_encoding(text: str) -> str | None:
    """The codec a ``.cpg`` sidecar names ("UTF-8", "1251", "ANSI 1251", "CP1251", "88595"...)."""
    raw = text.strip()
    value = raw.upper().replace("-", "").replace("_", "")
    value = value.removeprefix("ANSI").strip() or value
    candidates = [raw, value, _CPG_ALIASES.get(value, "")]
    if value.isdigit():
        candidates.append(f"cp{value}")
        if value.startswith("8859"):
            candidates.append(f"iso8859-{value[4:]}")
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return codecs.lookup(candidate).name
        except LookupError:
            continue
    return None


def sidecar(path: Path, suffix: str) -> Path | None:
    """``path`` with another extension, in lower or upper case, if that file exists."""
    for variant in (suffix.lower(), suffix.upper()):
        candidate = path.with_suffix(variant)
        if candidate.is_file():
            return candidate
    return None


def shapefile_encoding(shp: Path) -> tuple[str | None, str]:
    """The encoding of a Shapefile's attributes and how it was found ("cpg", "detected" or "none")."""
    cpg = sidecar(shp, ".cpg")
    if cpg is not None:
        found = cpg_encoding(cpg.read_text("ascii", errors="replace"))
        if found:
            return found, "cpg"
    dbf = sidecar(shp, ".dbf")
    if dbf is None:
        return None, "none"
    with dbf.open("rb") as f:
        header = f.read(32)
        if len(header) < 32:
            return None, "none"
        data_start = int.from_bytes(header[8:10], "little")
        descriptors = f.read(max(data_start - 32, 0))
        # field names (11 bytes at the start of each 32-byte descriptor) may be Cyrillic too
        names = []
        for i in range(0, len(descriptors) - 31, 32):
            if descriptors[i] == 0x0D:  # end of the field descriptors
                break
            names.append(descriptors[i : i + 11].split(b"\0")[0])
        sample = b" ".join([*(n for n in names if not n.isascii()), _non_ascii_sample(_read_chunks(f, data_start))])
        return detect_bytes_encoding(sample.strip()), "detected"
