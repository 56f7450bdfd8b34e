"""Positional-encoding tab: the chapter's sinusoids beside a model's learned position embeddings (3.4)."""

from __future__ import annotations

from dataclasses import dataclass

from .. import backend, scratch, views
from ..analysis import check_between, check_text
from ..messages import Msg
from .common import Result, rounded, with_fallback

D_MODEL_RANGE = (2, 1024)
LENGTH_RANGE = (2, 512)
MAX_DIMS = 8
# The chapter's point in one plot: over 100 positions at d_model=128, dimension 0 turns about 16 times,
# 8 about 9, 32 about 1.6, 64 a sixth of a turn and 96 barely moves: low dimensions fast, high ones slow.
DEFAULT_DIMS = "0, 8, 32, 64, 96"


@dataclass(frozen=True)
class PositionalResult(Result):
    model: str
    d_model: int
    max_len: int
    dims: list[int]
    sinusoid: views.PlotlySpec
    sinusoid_curves: views.PlotlySpec
    sinusoid_similarity: views.PlotlySpec
    learned: views.PlotlySpec
    learned_curves: views.PlotlySpec
    learned_similarity: views.PlotlySpec
    first_rows: list  # the first positions of the sinusoidal PE, for the API

    def api(self) -> dict:
        return {
            "model": self.model,
            "d_model": self.d_model,
            "max_len": self.max_len,
            "dims": self.dims,
            "sinusoid_first_positions": self.first_rows,
            **self.messages(),
        }


def parse_dims(text: str, d_model: int) -> tuple[list[int], list[Msg]]:
    """Comma-separated dimension indices, validated against ``d_model``."""
    dims: list[int] = []
    notes: list[Msg] = []
    for part in str(text or "").replace("、", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            dim = int(part)
        except ValueError:
            notes.append(Msg("pos.dim_not_whole", part=part[:40]))
            continue
        if not 0 <= dim < d_model:
            notes.append(Msg("pos.dim_out_of_range", dim=dim, last=d_model - 1))
            continue
        if dim not in dims:
            dims.append(dim)
    if not dims:
        dims = [d for d in (0, 1, 4, 5) if d < d_model]
    return dims[:MAX_DIMS], notes


def present(d_model: int = 128, max_len: int = 100, dims: str = DEFAULT_DIMS, model: str | None = None) -> PositionalResult:
    d_model = check_between(d_model, *D_MODEL_RANGE, "d_model")
    max_len = check_between(max_len, *LENGTH_RANGE, "positions")
    chosen, notes = parse_dims(check_text(dims, "dims"), d_model)
    pe = scratch.sinusoidal_positional_encoding(max_len, d_model)
    (learned, model_name), warnings = with_fallback(lambda name: (backend.position_embeddings(name), name), model, None)
    if max_len > learned.shape[0]:
        notes.append(Msg("pos.learned_short", model=model_name, positions=learned.shape[0]))
    learned = learned[:max_len]
    learned_dims = [d for d in chosen if d < learned.shape[1]] or [0]
    return PositionalResult(
        model=model_name,
        d_model=d_model,
        max_len=max_len,
        dims=chosen,
        sinusoid=views.encoding_heatmap(pe, Msg("pos.title_sinusoid", positions=max_len, d_model=d_model)),
        sinusoid_curves=views.encoding_curves(pe, chosen, Msg("pos.title_sinusoid_curves")),
        sinusoid_similarity=views.similarity_heatmap(scratch.cosine_similarity(pe), Msg("pos.title_sinusoid_similarity")),
        learned=views.encoding_heatmap(
            learned, Msg("pos.title_learned", model=model_name, rows=learned.shape[0], dims=learned.shape[1])
        ),
        learned_curves=views.encoding_curves(learned, learned_dims, Msg("pos.title_learned_curves", model=model_name)),
        learned_similarity=views.similarity_heatmap(
            scratch.cosine_similarity(learned), Msg("pos.title_learned_similarity", model=model_name)
        ),
        first_rows=rounded(pe[: min(4, max_len)]),
        lines=(Msg("pos.summary", positions=max_len, d_model=d_model, model=model_name), *notes),
        warnings=warnings,
    )
