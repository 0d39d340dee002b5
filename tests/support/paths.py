"""Where things are: this repository and the shared corpus beside it (``../shared/corpus``)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"
