"""Heads tab: what each head does on this input, which heads link two tokens, and what happens
when heads are switched off (3.3, 問題4 "why several heads?"; Clark et al. 2019, Michel et al. 2019)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import ablation, backend, heads, readability, views
from ..analysis import Analysis, AnalysisKey, check_index
from ..messages import Msg
from ..models import OFFLINE_DEFAULT, resolve
from ..step_views import Panel, panels_figure
from .common import Result, Table, analysis_for, key_of

TASK = "sentiment"  # the default model: a task model, so switching heads off changes an answer
ROLE_COLOURS = {  # colour-blind-safe (Okabe-Ito), one per role; the cell text names the role too
    "cls": "#E69F00",
    "sep": "#F0E442",
    "self": "#CC79A7",
    "prev": "#56B4E9",
    "next": "#0072B2",
    "punct": "#D55E00",
    "broad": "#009E73",
    "mixed": "#DDDDDD",
}
DARK_ROLES = {"next"}  # white text on these; black reads better on the others (WCAG AA 4.5:1: white on "broad" is 3.4:1)
FINDER_ROWS = 10
SPECIAL_SHARES = ("cls", "sep", "punct")  # stacked per layer (exBERT's special-token bar, with punctuation)


def role_name(role: str) -> Msg:
    return Msg(f"heads.role.{role}")


@dataclass(frozen=True)
class RoleGrid:
    """Layer x head role ids and each head's largest share (what a cell shows)."""

    roles: np.ndarray  # (L, H) role ids
    top_share: np.ndarray  # (L, H) the share that named the role (or the largest share)

    def table(self) -> Table:
        columns = (Msg("heads.col_layer"), *(Msg("heads.col_head", head=h) for h in range(self.roles.shape[1])))
        rows = [
            [
                layer,
                *(
                    Msg("heads.cell", role=Msg(f"heads.short.{role}"), share=f"{share:.2f}")
                    for role, share in zip(roles, shares, strict=True)
                ),
            ]
            for layer, (roles, shares) in enumerate(zip(self.roles, self.top_share, strict=True))
        ]
        return Table(columns, rows)


def role_grid(measured: heads.RoleShares) -> RoleGrid:
    return RoleGrid(measured.labels, heads.top_share(measured.shares))


def special_share_figure(measured: heads.RoleShares, title: Msg) -> views.PlotlySpec:
    """Per layer, the share of attention to [CLS] and to [SEP] (mean over heads), stacked (exBERT)."""
    layers = list(range(measured.entropy.shape[0]))
    traces = [
        dict(
            type="bar",
            x=layers,
            y=[round(float(v), 4) for v in measured.shares[name].mean(axis=1)],
            name=Msg(f"heads.share.{name}"),
            marker=dict(color=ROLE_COLOURS[name], line=dict(color="#333", width=1)),
            hovertemplate=Msg("heads.hover_share", layer="%{x}", share="%{y:.1%}"),
        )
        for name in SPECIAL_SHARES
    ]
    layout = views._spec_layout(
        title,
        380,
        barmode="stack",
        xaxis=dict(title=dict(text=Msg("ui.layer")), tickmode="array", tickvals=layers, automargin=True),
        yaxis=dict(title=dict(text=Msg("heads.share_axis")), range=[0, 1], tickformat=".0%", gridcolor="#ddd", automargin=True),
        legend=dict(orientation="h", x=1.0, xanchor="right", y=1.0, yanchor="bottom", font=dict(size=15)),
    )
    return views.PlotlySpec(data=traces, layout=layout)


def layer_head_heatmap(values: np.ndarray, title: Msg, colour: str, hover: Msg, diverging: bool = False) -> views.PlotlySpec:
    """A layer x head grid of numbers, each cell written in it (projectors wash colours out)."""
    n_layers, n_heads = values.shape
    limit = float(np.abs(values).max()) or 1.0
    digits = 2 if limit >= 0.1 else 3  # small effects (a sentiment of 99%) would all read "0.00"
    trace = dict(
        type="heatmap",
        z=[[round(float(v), 4) for v in row] for row in values],
        x=list(range(n_heads)),
        y=list(range(n_layers)),
        text=[[f"{v:.{digits}f}" for v in row] for row in values],
        texttemplate="%{text}",
        textfont=dict(size=13),
        hovertemplate=hover,
        colorbar=dict(title=dict(text=colour), thickness=16),
        xgap=2,
        ygap=2,
    )
    if diverging:
        # plotly's RdBu runs from blue (low) to red (high): a head that helped the answer (a drop) is red
        trace.update(colorscale=views.DIVERGING_SCALE, zmid=0.0, zmin=-limit, zmax=limit)
    else:
        trace.update(colorscale=views.ATTENTION_SCALE, zmin=0.0, zmax=limit)
    layout = views._spec_layout(
        title,
        max(320, 46 * n_layers + 170),
        xaxis=dict(title=dict(text=Msg("ui.head")), tickmode="array", tickvals=list(range(n_heads)), automargin=True),
        yaxis=dict(
            title=dict(text=Msg("ui.layer")),
            tickmode="array",
            tickvals=list(range(n_layers)),
            autorange="reversed",
            automargin=True,
        ),
    )
    layout["margin"] = dict(l=20, r=20, t=110, b=20)
    return views.PlotlySpec(data=[trace], layout=layout)


# ---------------------------------------------------------------- roles + finder


@dataclass(frozen=True)
class FinderView:
    query: int
    key: int
    ranking: list[tuple[int, int, float]]  # every head, largest weight first
    figure: views.PlotlySpec

    def table(self, roles: np.ndarray) -> Table:
        columns = (
            Msg("heads.col_rank"),
            Msg("ui.layer"),
            Msg("ui.head"),
            Msg("heads.col_weight"),
            Msg("heads.col_role"),
        )
        return Table(
            columns,
            [[rank + 1, layer, head, round(weight, 3), role_name(str(roles[layer, head]))]
             for rank, (layer, head, weight) in enumerate(self.ranking[:FINDER_ROWS])],
        )  # fmt: skip


@dataclass(frozen=True)
class HeadsResult(Result):
    key: AnalysisKey
    tokens: tuple[str, ...]
    token_labels: list[str]
    measured: heads.RoleShares
    grid: RoleGrid
    special: views.PlotlySpec
    finder: FinderView

    def api(self) -> dict:
        return {
            "model": self.key.model,
            "tokens": list(self.tokens),
            "roles": heads.role_records(self.measured),
            "special_share_per_layer": [round(float(v), 4) for v in self.measured.special_share_per_layer()],
            "thresholds": {"role_share": heads.ROLE_SHARE, "broad_relative_entropy": heads.BROAD_ENTROPY},
            **self.messages(),
        }


def default_pair(tokens: tuple[str, ...]) -> tuple[int, int]:
    """The finder's first question: "it" -> the nearest noun-like word before it, else token 1 -> 2.

    For the chapter's sentence ("…because it was too tired") that is it -> animal, the pair Vaswani
    et al.'s figure and the Attention tab's example ask about."""
    if "it" in tokens:
        query = tokens.index("it")
        for candidate in ("animal", "street"):
            if candidate in tokens[:query]:
                return query, tokens.index(candidate)
    last = len(tokens) - 1
    return min(1, last), min(2, last)


def finder_view(analysis: Analysis, query: int, key: int) -> FinderView:
    query = check_index(query, analysis.n_tokens, "token", allow_negative=False)
    key = check_index(key, analysis.n_tokens, "token", allow_negative=False)
    ranking = heads.find_heads(analysis.attentions, query, key)
    values = np.asarray(analysis.attentions[:, :, query, key], dtype=np.float64)
    labels = analysis.token_labels()
    title = Msg("heads.title_finder", query=labels[query], key=labels[key])
    hover = Msg("heads.hover_weight", layer="%{y}", head="%{x}", weight="%{z:.3f}")
    return FinderView(query, key, ranking, layer_head_heatmap(values, title, "α", hover))


def present(text: str, model: str | None = None, query: int | None = None, key: int | None = None) -> HeadsResult:
    spec = resolve(model or OFFLINE_DEFAULT[TASK])
    if spec.task == "qa":
        analysis = backend.run(ablation.key_for(text, spec.name))
        warnings = readability.check(analysis, spec.task)[1]
    else:
        analysis, warnings = analysis_for(text, spec.name, spec.task)
    first = ablation.first_window(analysis)
    measured = heads.shares_of(first)
    default_query, default_key = default_pair(first.tokens)
    query = default_query if query is None or query >= first.n_tokens else query
    key = default_key if key is None or key >= first.n_tokens else key
    counts = {role: int((measured.labels == role).sum()) for role in heads.ROLES}
    summary = Msg(
        "heads.summary",
        model=first.model_name,
        tokens=first.n_tokens,
        layers=first.n_layers,
        heads=first.n_heads,
        roles=[Msg("heads.role_count", count=count, role=role_name(role)) for role, count in counts.items() if count],
    )
    return HeadsResult(
        key=key_of(analysis),
        tokens=first.tokens,
        token_labels=first.token_labels(),
        measured=measured,
        grid=role_grid(measured),
        special=special_share_figure(measured, Msg("heads.title_special", model=first.model_name)),
        finder=finder_view(first, query, key),
        lines=(summary, *getattr(analysis, "notes", ())),
        warnings=warnings,
    )


def find(key: AnalysisKey, query: int, key_token: int) -> FinderView:
    """The head finder for another token pair of an analysed input (cached: no forward pass)."""
    return finder_view(ablation.first_window(backend.run(key)), query, key_token)


# ---------------------------------------------------------------- ablation


@dataclass(frozen=True)
class AblationResult(Result):
    key: AnalysisKey
    heads: tuple[tuple[int, int], ...]
    task: str | None
    before: dict
    after: dict
    comparison: Table
    shown_layer: int
    attention: views.PlotlySpec

    def api(self) -> dict:
        return {
            "model": self.key.model,
            "heads": [f"{layer}.{head}" for layer, head in self.heads],
            "task": self.task or "encoder",
            "before": self.before,
            "after": self.after,
            **self.messages(),
        }


def comparison_table(task: str | None, before: dict, after: dict) -> Table:
    columns = (Msg("heads.col_output"), Msg("heads.panel_before"), Msg("heads.panel_after"))
    if task == "sentiment":
        from .sentiment import class_name

        rows = [[Msg("heads.row_label"), class_name(before["label"]), class_name(after["label"])]]
        rows += [
            [Msg("heads.row_probability", label=class_name(name)), f"{p:.1%}", f"{after['probabilities'][name]:.1%}"]
            for name, p in before["probabilities"].items()
        ]
    elif task == "ner":

        def listed(found: dict) -> str:
            return "; ".join(f"{e['text']} ({e['type']} {e['score']:.2f})" for e in found["entities"]) or "—"

        rows = [[Msg("heads.row_entities"), listed(before), listed(after)]]
    elif task == "qa":
        rows = [
            [Msg("heads.row_answer"), before["answer"] or "—", after["answer"] or "—"],
            [Msg("heads.row_score"), f"{before['score']:.1%}", f"{after['score']:.1%}"],
        ]
    else:
        rows = [[Msg("heads.row_cosine"), f"{before['embedding_cosine']:.4f}", f"{after['embedding_cosine']:.4f}"]]
    return Table(columns, rows)


def ablate(text: str, model: str | None, chosen: str) -> AblationResult:
    done = ablation.ablate(text, model or OFFLINE_DEFAULT[TASK], chosen)
    plain, gated = ablation.first_window(done.plain), ablation.first_window(done.gated)
    first = min(layer for layer, _ in done.heads)
    # a head changes the attention of the layers above it only: show the first of those (none above the last layer)
    shown = min(first + 1, plain.n_layers - 1)
    before, after = plain.mean_attention(shown), gated.mean_attention(shown)
    labels = plain.token_labels()
    figure = panels_figure(
        [
            Panel(before, Msg("heads.panel_before"), labels, "weights"),
            Panel(after, Msg("heads.panel_after"), labels, "weights"),
            Panel(after - before, Msg("heads.panel_difference"), labels, "values"),
        ],
        labels,
        Msg("heads.title_ablation", layer=shown, heads=ablation.HeadGate.of(done.heads).describe()),
    )
    described = ablation.HeadGate.of(done.heads).describe()
    if first == plain.n_layers - 1:
        lines = [Msg("heads.ablated_last", count=len(done.heads), heads=described)]
    else:
        lines = [Msg("heads.ablated", count=len(done.heads), heads=described, layer=shown)]
    return AblationResult(
        key=key_of(done.plain),
        heads=done.heads,
        task=done.task,
        before=done.before,
        after=done.after,
        comparison=comparison_table(done.task, done.before, done.after),
        shown_layer=shown,
        attention=figure,
        lines=tuple(lines),
    )


@dataclass(frozen=True)
class ImportanceResult(Result):
    key_model: str
    measured: ablation.Importance
    figure: views.PlotlySpec

    def api(self) -> dict:
        found = self.measured
        return {
            "model": self.key_model,
            "measure": found.measure,
            "plain_value": round(found.plain_value, 6),
            "importance": [[round(float(v), 6) for v in row] for row in found.effect],
            "forward_passes": found.forward_passes,
            **self.messages(),
        }


def importance(text: str, model: str | None, progress: Callable[[int, int], None] | None = None) -> ImportanceResult:
    name = resolve(model or OFFLINE_DEFAULT[TASK]).name
    found = ablation.importance(text, name, progress)
    layer, head = np.unravel_index(int(np.argmax(found.effect)), found.effect.shape)
    measure = Msg(f"heads.measure.{found.measure}")
    title = Msg("heads.title_importance", measure=measure)
    hover = Msg("heads.hover_importance", layer="%{y}", head="%{x}", value="%{z:.4f}")
    figure = layer_head_heatmap(found.effect, title, "Δ", hover, diverging=True)
    summary = Msg(
        "heads.importance_summary",
        runs=found.effect.size,
        passes=found.forward_passes,
        measure=measure,
        value=f"{found.plain_value:.3f}",
        layer=int(layer),
        head=int(head),
        drop=f"{found.effect[layer, head]:+.3f}",
    )
    return ImportanceResult(key_model=name, measured=found, figure=figure, lines=(summary,))


# ---------------------------------------------------------------- corpus statistics


@dataclass(frozen=True)
class CorpusResult(Result):
    grid: RoleGrid | None
    syntax: Table | None


def corpus_statistics(model: str) -> CorpusResult:
    """The precomputed corpus statistics of ``model`` (``python -m explorer.corpus``), or how to make them."""
    from ..corpus import load_result
    from ..models import DEFAULT_MODEL

    found, notes = load_result(model), ()
    if found is None:
        # the embedded encoder's statistics, said to be that model's (the offline task models were tuned from it)
        found, notes = load_result(DEFAULT_MODEL), (Msg("heads.corpus_missing", model=model),)
        model = DEFAULT_MODEL
    if found is None:
        return CorpusResult(grid=None, syntax=None, lines=notes)
    roles = np.array(found["roles"]["labels"])
    columns = (
        Msg("heads.col_relation"),
        Msg("heads.col_count"),
        Msg("heads.col_dep_to_head"),
        Msg("heads.col_head_to_dep"),
        Msg("heads.col_baseline"),
    )

    def best(entry: dict) -> str:
        return f"{entry['layer']}.{entry['head']}: {entry['accuracy']:.1%}"

    rows = [
        [
            row["relation"],
            row["count"],
            best(row["dependent_to_head"]),
            best(row["head_to_dependent"]),
            f"{row['baseline']['offset']:+d}: {row['baseline']['accuracy']:.1%}",
        ]
        for row in found["syntax"]
    ]
    summary = Msg(
        "heads.corpus_summary",
        model=model,
        sentences=f"{found['sentences']:,}",
        words=f"{found['words']:,}",
        parser=found["spacy_model"],
    )
    return CorpusResult(
        grid=RoleGrid(roles, heads.top_share(found["roles"])), syntax=Table(columns, rows), lines=(*notes, summary)
    )
