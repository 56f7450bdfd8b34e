"""The message catalogs against the code: every key the code uses exists in every language with
the same parameters, no key is dead, Japanese is really Japanese, and every label of the page
comes from the catalog (so the language switch reaches it).

Keys are found statically (``ast``) in ``app.py`` and ``explorer/**/*.py``:

* the first argument of ``Msg(...)``, ``T(...)``, ``ExplorerError/InputError/ModelUnavailable(...)``
  (both branches of a conditional expression);
* every other string literal shaped like a key of a catalog namespace (``"att.button"`` kept in
  a constant, ``label_key="pos.model"``, the tab table...);
* keys built at run time (``f"col.{name}"``, ``"word." + what``...) are expanded from the code's
  own tuples in ``EXPANSIONS``; a new dynamic form without an expansion fails the test, and so
  does a call that forwards a key from a variable unless ``FORWARDERS`` says where it comes from.
"""

from __future__ import annotations

import ast
import inspect
import re
import string
import warnings
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from explorer import attribution, compare, embeddings, lesson, masking
from explorer.messages import LANGUAGES, catalog
from explorer.present import explain as explain_present

ROOT = Path(__file__).resolve().parent.parent
CODE = [ROOT / "app.py", *sorted((ROOT / "explorer").rglob("*.py"))]
KEY_CALLS = {"Msg", "T", "ExplorerError", "InputError", "ModelUnavailable"}
KEY_SHAPE = re.compile(r"^([a-z_]+)\.[a-z0-9_]+$")

# String literals shaped like keys that are not keys (file names...).
NOT_KEYS = {"model.safetensors"}

# Calls whose key is a variable, and where its values come from (those are literals the scan sees).
FORWARDERS = {
    ("explorer/errors.py", "__init__"): "ExplorerError(key): the keys of the raise sites",
    ("explorer/ui/common.py", "T"): "T(key): the keys of the T(...) calls",
    ("explorer/ui/common.py", "layer_head_sliders"): "head_label: its default and the callers' literal",
    ("explorer/ui/common.py", "model_dropdown"): "label_key: its default and the callers' literal",
    ("explorer/ui/common.py", "not_yet"): "button_key: the tabs' BUTTON constants",
    ("explorer/ui/i18n.py", "_choice_label"): "keys found by collect() in the catalog",
    ("explorer/ui/i18n.py", "model_label"): "the literal keys of MODEL_SUFFIX",
    ("explorer/ui/i18n.py", "relabel"): "keys found by collect() in the catalog",
    ("app.py", "build_demo"): "T(spec.label_key): the tab table's literals",
    ("explorer/views.py", "span_probabilities"): "the literal tuple ('fig.start', 'fig.end') it loops over",
    ("explorer/present/step.py", "panel"): "the literal key tables TITLE_KEYS, FORMULA_KEYS, ROW_KEYS, QKV_FIGURE_KEYS",
    ("explorer/step_views.py", "encoder_stack"): "the literal keys of STACK_PARTS",
    ("explorer/step_views.py", "parameter_bars"): "the literal keys of PARAMETER_PARTS",
    ("explorer/present/step.py", "_with_subset"): "the two literals of its conditional expression",
}

# Entries that are the same in Japanese on purpose.
SAME_IN_JAPANESE = {
    "compare.difference_axis": "B − A, a formula",
    "embed.hover_similarity": "placeholders, cos and plotly markup only",
    "col.index": "#, a symbol",
    "word.d_model": "d_model, the formula's own symbol",
    "tab.attention": "the chapter's Japanese keeps the term Attention (アテンション is not used in the book)",
    "hover.span": "placeholders and plotly markup only",
    "hover.step": "placeholders and plotly markup only",
    "step.check_and": "two sentences joined by a space",
    "stepfig.padded": "a number and the [PAD] token",
    "heads.cell": "placeholders only (a role and its share)",
    "heads.col_head": "H and a head number: a narrow column header (the table's label says 列：ヘッド)",
    **{key: "a special token's own name" for key in ("heads.share.cls", "heads.share.sep", "heads.short.cls", "heads.short.sep")},
    **{
        key: "a formula's own symbols (the chapter writes them the same way)"
        for key in (
            "step.col_score",
            "step.col_scaled",
            "step.col_weight_unscaled",
            "step.row_projected",
            "step.row_ffn_hidden",
            "step.row_ffn_output",
            "stepfig.scaled",
            "step.col_hidden",
            "step.col_dk",
            "step.col_dff",
            "stepfig.toy_scores",
            "stepfig.toy_weights",
            "stepfig.toy_over_d_k",
        )
    },
}
# Entries that differ from English but need no Japanese character.
NO_JAPANESE_NEEDED = {
    **SAME_IN_JAPANESE,
    "col.id": "ID, an acronym",
}
JAPANESE = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff01-\uff5e]")  # CJK punctuation, kana, kanji, full-width forms


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def literal_strings(node: ast.AST) -> list[str] | None:
    """The keys a key expression can take if it is made of literals only (a conditional of literals)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = literal_strings(node.body), literal_strings(node.orelse)
        return body + orelse if body is not None and orelse is not None else None
    return None


def pattern_of(node: ast.AST) -> str | None:
    """``f"col.{name}"`` -> ``"col.*"``, ``"word." + what`` -> ``"word.*"``; None for anything else."""
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "*" for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = pattern_of(node.left) or literal_strings(node.left), pattern_of(node.right) or literal_strings(node.right)
        left = left[0] if isinstance(left, list) and len(left) == 1 else left
        right = right[0] if isinstance(right, list) and len(right) == 1 else right
        return (left if isinstance(left, str) else "*") + (right if isinstance(right, str) else "*")
    return None


class Site:
    def __init__(self, path: str, line: int, function: str, call: ast.Call):
        self.path, self.line, self.function, self.call = path, line, function, call

    def __repr__(self) -> str:
        return f"{self.path}:{self.line} {ast.unparse(self.call)[:90]}"


@cache
def scan() -> dict:
    """Key sites of the code: literal keys (with the parameters given), patterns, forwarded keys, key-shaped literals."""
    namespaces = {key.split(".")[0] for key in catalog("en")}
    literal: dict[str, list[tuple[Site, set[str] | None]]] = {}
    patterns: dict[str, list[Site]] = {}
    forwarded: list[Site] = []
    shaped: dict[str, list[str]] = {}
    for path in CODE:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_fstring = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in ast.walk(node)}
        functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
        constants = {  # module-level NAME = "key"
            target.id: node.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
            for target in node.targets
            if isinstance(target, ast.Name)
        }

        def enclosing(node: ast.AST, functions=functions) -> str:
            inside = [f for f in functions if f.lineno <= node.lineno <= (f.end_lineno or f.lineno)]
            return min(inside, key=lambda f: (f.end_lineno or f.lineno) - f.lineno).name if inside else "<module>"

        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in in_fstring:
                match = KEY_SHAPE.match(node.value)
                if match and match.group(1) in namespaces and node.value not in NOT_KEYS:
                    shaped.setdefault(node.value, []).append(f"{relative(path)}:{node.lineno}")
            if not (isinstance(node, ast.Call) and call_name(node) in KEY_CALLS and node.args):
                continue
            if call_name(node) in {"InputError", "ExplorerError", "ModelUnavailable"} and isinstance(node.func, ast.Attribute):
                continue
            site = Site(relative(path), node.lineno, enclosing(node), node)
            first = node.args[0]
            if isinstance(first, ast.Name) and first.id in constants:
                first = constants[first.id]
            given = None if any(k.arg is None for k in node.keywords) else {k.arg for k in node.keywords}
            if (keys := literal_strings(first)) is not None:
                for key in keys:
                    literal.setdefault(key, []).append((site, given))
            elif (pattern := pattern_of(first)) is not None:
                patterns.setdefault(pattern, []).append(site)
            else:
                forwarded.append(site)
    return {"literal": literal, "patterns": patterns, "forwarded": forwarded, "shaped": shaped}


# ---- keys built at run time, expanded from the code's own tuples ----------------------------


def _column_keys() -> set[str]:
    import importlib
    import pkgutil

    import explorer.present
    from explorer.messages import Msg

    keys = set()
    for module_info in pkgutil.iter_modules(explorer.present.__path__):
        module = importlib.import_module(f"explorer.present.{module_info.name}")
        for name, value in vars(module).items():
            if name.endswith("_COLUMNS"):
                assert all(isinstance(column, Msg) for column in value), name
                keys |= {column.key for column in value}
    return keys


def _strategy_keys() -> set[str]:
    from explorer.tasks.ner import STRATEGIES

    return {f"ner.strategy_{name}" for name in STRATEGIES}


def _doubt_keys() -> set[str]:
    from explorer.tasks.qa import LOW_CONFIDENCE, Answer, doubts

    sure = Answer("x", 0, 1, 1.0, 0, 0, 0)
    unsure = Answer("x", 0, 1, LOW_CONFIDENCE / 2, 0, 0, 0)
    assert doubts(sure, 0.0) == [] and doubts(None, 1.0) == []
    return {f"qa.{doubt}" for doubt in doubts(unsure, 1.0)}  # every doubt at once


def _class_keys() -> set[str]:
    from explorer.present import sentiment

    source = ast.parse(inspect.getsource(sentiment.class_name))
    names = {
        element.value
        for node in ast.walk(source)
        if isinstance(node, ast.Tuple)
        for element in node.elts
        if isinstance(element, ast.Constant) and isinstance(element.value, str)
    }
    keys = {sentiment.class_name(name).key for name in names}
    assert sentiment.class_name("LABEL_7") == "LABEL_7"  # a label the catalog does not know stays as it is
    return keys


def _word_keys() -> set[str]:
    """``"word." + what``: the literals passed as ``what`` to every function that builds such a key."""
    builders: dict[str, int] = {}
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in CODE]
    for tree in trees:
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef) and any(
                pattern_of(node) == "word.*" for node in ast.walk(function) if isinstance(node, ast.BinOp)
            ):
                builders[function.name] = [a.arg for a in function.args.args].index("what")
    whats = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and call_name(node) in builders:
                position = builders[call_name(node)]
                candidates = [k.value for k in node.keywords if k.arg == "what"]
                if not any(isinstance(arg, ast.Starred) for arg in node.args[: position + 1]):
                    candidates += node.args[position : position + 1]
                elif node.args:
                    candidates.append(node.args[-1])  # f(value, *RANGE, "what")
                whats |= {c.value for c in candidates if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    assert {"layer", "head", "token"} <= whats, whats
    return {f"word.{what}" for what in whats}


def _heads_keys(kind: str) -> Callable[[], set[str]]:
    """Role ids (explorer.heads.ROLES), the shares drawn per layer, the importance measures (ablation.MEASURES)."""

    def keys() -> set[str]:
        from explorer import ablation, heads
        from explorer.present.heads import SPECIAL_SHARES

        names = {"role": heads.ROLES, "short": heads.ROLES, "share": SPECIAL_SHARES, "measure": tuple(ablation.MEASURES.values())}
        return {f"heads.{kind}.{name}" for name in names[kind]}

    return keys


EXPANSIONS: dict[str, Callable[[], set[str]]] = {
    "col.*": _column_keys,
    "ner.strategy_*": _strategy_keys,
    "qa.*": _doubt_keys,
    "label.*": _class_keys,
    "word.*": _word_keys,
    **{f"heads.{kind}.*": _heads_keys(kind) for kind in ("role", "short", "share", "measure")},
    "compare.aligned.*": lambda: {f"compare.aligned.{kind}" for kind in compare.KINDS},
    "fill.outcome.*": lambda: {f"fill.outcome.{name}" for name in masking.OUTCOMES},
    "fill.share.*": lambda: {f"fill.share.{name}" for name in ("chosen", "mask", "random", "unchanged")},
    "embed.pooling.*": lambda: {f"embed.pooling.{name}" for name in embeddings.POOLINGS},
    "compare.kind.*": lambda: {f"compare.kind.{kind}" for kind in compare.KINDS},
    "explain.method.*": lambda: {f"explain.method.{name}" for name in (*attribution.METHODS, attribution.REFERENCE)},
    "explain.col.*": lambda: {f"explain.col.{name}" for name in explain_present.COLUMNS},
    "lesson.*_*": lambda: {step.msg(part).key for step in lesson.STEPS for part in lesson.PARTS},
    "lesson.*_title": lambda: {step.msg("title").key for step in lesson.STEPS},
    "tab.*": lambda: {f"tab.{step.tab}" for step in lesson.STEPS},
}


@cache
def used_keys() -> set[str]:
    found = scan()
    keys = set(found["literal"]) | set(found["shaped"])
    for pattern in found["patterns"]:
        keys |= EXPANSIONS[pattern]()
    return keys


def fields(template: str) -> set[tuple[str, str]]:
    return {(name, spec or "") for _, name, spec, _ in string.Formatter().parse(template) if name is not None}


# ---- the tests ---------------------------------------------------------------------------


def test_the_scan_sees_the_code():
    """Guard the scanner itself: known keys of each kind are found."""
    found = scan()
    assert {"att.summary", "input.empty", "att.button", "app.header", "att.suffix_hidden", "model.menu_switched"} <= set(
        found["literal"]
    )
    assert {"tab.attention", "pos.model", "qa.head", "tok.button", "fig.start"} <= set(found["shaped"])
    assert {"col.*", "word.*", "ner.strategy_*"} <= set(found["patterns"])
    assert len(found["literal"]) > 100


def test_both_languages_have_the_same_keys_and_parameters():
    english, japanese = catalog("en"), catalog("ja")
    assert set(english) == set(japanese), set(english) ^ set(japanese)
    different = {
        key: (fields(english[key]), fields(japanese[key])) for key in english if fields(english[key]) != fields(japanese[key])
    }
    assert different == {}


def test_every_key_the_code_uses_exists_in_every_language():
    found = scan()
    where = {key: [repr(site) for site, _ in sites] for key, sites in found["literal"].items()}
    where.update({key: places for key, places in found["shaped"].items() if key not in where})
    for language in LANGUAGES:
        missing = {key: places[:3] for key, places in where.items() if key not in catalog(language)}
        assert missing == {}, f"keys missing in explorer/locales/{language}: {missing}"


def test_every_key_built_at_run_time_has_an_expansion_and_exists():
    found = scan()
    unknown = {pattern: sites for pattern, sites in found["patterns"].items() if pattern not in EXPANSIONS}
    assert unknown == {}, "add an expansion from the code's own tuple to EXPANSIONS"
    for pattern in found["patterns"]:
        keys = EXPANSIONS[pattern]()
        assert keys and all(re.fullmatch(re.escape(pattern).replace(r"\*", ".+"), key) for key in keys), (pattern, keys)
        for language in LANGUAGES:
            assert keys - set(catalog(language)) == set(), (pattern, language)


def test_every_forwarded_key_is_accounted_for():
    """A call like ``Msg(variable)``: its keys must come from literals the scan sees (``FORWARDERS``)."""
    sites = scan()["forwarded"]
    unexplained = [site for site in sites if (site.path, site.function) not in FORWARDERS]
    assert unexplained == [], "say in FORWARDERS where these keys come from"
    stale = set(FORWARDERS) - {(site.path, site.function) for site in sites}
    assert stale == set(), "these FORWARDERS no longer forward a key"


def test_the_tab_table_names_catalog_keys():
    from explorer.ui.tabs import TABS

    for language in LANGUAGES:
        for spec in TABS:
            assert spec.label_key in catalog(language) and spec.primary_key in catalog(language), spec


def test_every_call_gives_the_parameters_its_message_needs():
    english = catalog("en")
    short = []
    for key, sites in scan()["literal"].items():
        if key not in english:
            continue  # reported by test_every_key_the_code_uses_exists_in_every_language
        needed = {name for name, _ in fields(english[key])}
        for site, given in sites:
            if given is not None and site.call.args[0] is not None and not needed <= given:
                short.append((repr(site), sorted(needed - given)))
    assert short == []


def test_no_catalog_key_is_unused():
    """Dead entries are listed; every namespace is enumerated in full (literals + expansions), so any fails."""
    unused = sorted(set(catalog("en")) - used_keys())
    if unused:
        warnings.warn(f"catalog keys no code uses: {unused}", stacklevel=1)
    assert unused == []


def test_japanese_is_japanese():
    english, japanese = catalog("en"), catalog("ja")
    same = {key for key in english if english[key] == japanese[key]}
    assert same == set(SAME_IN_JAPANESE), same ^ set(SAME_IN_JAPANESE)
    no_japanese = [key for key, text in japanese.items() if key not in NO_JAPANESE_NEEDED and not JAPANESE.search(text)]
    assert no_japanese == []


@pytest.fixture(scope="module")
def demo():
    import app

    return app.build_demo()


def page_texts(demo) -> list[tuple[object, str, str]]:
    """``(component, prop, text)`` for every label, help text, placeholder, text value and choice shown."""
    import gradio as gr

    from explorer.models import REGISTRY
    from explorer.ui import i18n

    language_names = {name for name, _ in i18n.LANGUAGES}  # each language in its own name, on purpose
    found = []
    for block in demo.blocks.values():
        if isinstance(block, gr.State) or type(block).__name__ == "Api" or not getattr(block, "visible", True):
            continue
        for prop in i18n.PROPS:
            value = getattr(block, prop, None)
            if isinstance(value, str) and value.strip():
                found.append((block, prop, value))
        if isinstance(block, i18n.TEXT_VALUE) and isinstance(block.value, str) and block.value.strip():
            found.append((block, "value", block.value))
        if isinstance(block, gr.Dataset) and len(block.headers or []) > 1:  # an examples table shows its columns
            found += [(block, "headers", header) for header in block.headers]
        if isinstance(block, gr.Radio | gr.Dropdown) and block.choices:
            for label, value in block.choices:
                if value in REGISTRY or str(label) in language_names:
                    continue  # model ids are data; their suffixes are checked below
                found.append((block, "choices", str(label)))
    return found


def test_every_label_of_the_page_is_a_catalog_text_the_switch_reaches(demo):
    import gradio as gr

    from explorer.messages import english_index
    from explorer.ui import i18n

    index = english_index()
    texts = page_texts(demo)
    assert len(texts) >= 80
    not_in_catalog = [(type(block).__name__, prop, text[:60]) for block, prop, text in texts if text not in index]
    assert not_in_catalog == []
    collected = {id(item.component): item for item in i18n.collect(demo)}
    unreached = []
    for block, prop, text in texts:
        item = collected.get(id(block))
        if item is None or prop not in item.keys:
            unreached.append((type(block).__name__, prop, text[:60]))
        elif prop == "choices":
            if (index[text], text) not in [
                (key, label) for (key, _), (label, _) in zip(item.keys["choices"], block.choices, strict=True)
            ]:
                unreached.append((type(block).__name__, prop, text[:60]))
        elif prop == "headers":
            if (index[text], text) not in item.keys["headers"]:
                unreached.append((type(block).__name__, prop, text[:60]))
        elif catalog("en")[item.keys[prop]] != text:
            unreached.append((type(block).__name__, prop, text[:60]))
    assert unreached == []
    # Model menus: every choice is a model the relabelling knows, with a translated suffix.
    menus = [b for b in demo.blocks.values() if isinstance(b, gr.Dropdown) and "model-menu" in (b.elem_classes or [])]
    assert menus and all(collected[id(menu)].keys.get("choices") for menu in menus)


def test_relabelling_in_japanese_changes_every_collected_text(demo):
    from explorer.ui import i18n

    items = i18n.collect(demo)
    japanese = i18n.relabel(items, "ja")
    english = i18n.relabel(items, "en")
    unchanged = []
    for item, ja, en in zip(items, japanese, english, strict=True):
        for prop, key in item.keys.items():
            if prop == "choices":
                pairs = [
                    (k, ja_label, en_label) for (k, _), (ja_label, _), (en_label, _) in zip(key, ja[prop], en[prop], strict=True)
                ]
                unchanged += [(prop, en_label) for k, ja_label, en_label in pairs if ja_label == en_label and k]
            elif prop == "headers":
                unchanged += [(prop, e) for (k, _), j, e in zip(key, ja[prop], en[prop], strict=True) if j == e and k]
            elif prop == "component_props":  # an examples table's menu and radio cells
                for choice_keys, ja_props, en_props in zip(key, ja[prop], en[prop], strict=True):
                    pairs = zip(choice_keys or [], ja_props.get("choices", []), en_props.get("choices", []), strict=True)
                    unchanged += [(prop, e) for (k, _), (j, _), (e, _) in pairs if j == e and k]
            elif ja[prop] == en[prop] and key not in SAME_IN_JAPANESE:
                unchanged.append((prop, en[prop][:60]))
    assert unchanged == []


def test_examples_tables_read_in_japanese_too(demo):
    """An examples table draws a menu's or radio's cell with that input's choice label, and a checkbox's
    as JavaScript's "true"/"false": on the Japanese page both were English (the Embeddings and Fill-mask
    model column, the pooling column, Compare's position switch)."""
    import gradio as gr

    from explorer.messages import Msg, render
    from explorer.ui import i18n

    tables = [item for item in i18n.collect(demo) if isinstance(item.component, gr.Dataset)]
    relabelled = {id(item.component): update for item, update in zip(tables, i18n.relabel(tables, "ja"), strict=True)}
    cells = []
    for item in tables:
        for props in relabelled[id(item.component)].get("component_props", []):
            cells += [label for label, _ in props.get("choices", [])]
    assert "all-MiniLM-L6-v2(同梱・オフライン)" in cells
    assert render(Msg("embed.pooling.sentence-transformers"), "ja") in cells
    shown = [sample for block in demo.blocks.values() if isinstance(block, gr.Dataset) for row in block.samples for sample in row]
    assert "✓" in shown and "–" in shown and not any(isinstance(sample, bool) for sample in shown)


def test_a_label_of_the_page_reads_back_to_one_translation(demo):
    """The page finds a label's key from its English text (``english_index``, first key in file order):
    where two keys share an English text but not their Japanese one, no label of the page may be that
    text. A grid header "Layer" in heads.json once turned every "Layer" slider into 層 (not 層(レイヤー))."""
    english, japanese = catalog("en"), catalog("ja")
    shared: dict[str, set[str]] = {}
    for key, text in english.items():
        shared.setdefault(text, set()).add(japanese[key])
    ambiguous = {text for text, translations in shared.items() if len(translations) > 1}
    assert [(type(block).__name__, prop, text) for block, prop, text in page_texts(demo) if text in ambiguous] == []
