"""Can the model read this text? A warning when it cannot, so no tab presents a confident answer.

Two signs, either is enough (documented thresholds, tested in ``tests/test_readability.py``):

- **[UNK] share**: at least ``UNKNOWN_SHARE`` (30%) of the non-special tokens are the tokenizer's
  unknown token. The model then sees the same vector for all of those words.
- **Script**: at least ``FOREIGN_SHARE`` (30%) of the text's letters are in a script the model
  was not trained on: anything but Latin for an English model (Japanese on the embedded MiniLM gives
  "positive 99.8%" for 全く面白くなくて時間の無駄だった。 with only 4 of 17 tokens [UNK]: the known
  kanji are single characters the model never learned to read as Japanese). A Japanese model reads
  Japanese and the Latin letters of English words (its vocabulary has them), so English text on it is
  not flagged.

Digits, punctuation, spaces and symbols count for neither script. The result is pure data
(``Readability``); ``warnings_for`` turns it into messages naming the models that can read the text.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from .messages import Msg

UNKNOWN_SHARE = 0.30  # of non-special tokens that are [UNK]: at or above, the model cannot read the text
FOREIGN_SHARE = 0.30  # of letters outside the model's scripts: at or above, the text is not in its script
UNKNOWN_TOKEN = "[UNK]"
# Scripts each model language reads; a letter's script is the first word of its Unicode name.
SCRIPTS = {"en": frozenset({"LATIN"}), "ja": frozenset({"LATIN", "HIRAGANA", "KATAKANA", "CJK"})}
JAPANESE_SCRIPTS = frozenset({"HIRAGANA", "KATAKANA", "CJK"})


def script_of(char: str) -> str | None:
    """The script of one letter (``"LATIN"``, ``"HIRAGANA"``, ``"KATAKANA"``, ``"CJK"``, ``"CYRILLIC"``…);
    ``None`` for anything that is not a letter (digits, punctuation, spaces, symbols)."""
    if not unicodedata.category(char).startswith("L"):
        return None
    name = unicodedata.name(char, "")
    if name.startswith(("KATAKANA-HIRAGANA", "HALFWIDTH KATAKANA")):  # ー, ｶ
        return "KATAKANA"
    if name.startswith(("CJK", "IDEOGRAPHIC")):
        return "CJK"
    return name.split(" ", 1)[0] or None


@dataclass(frozen=True)
class Readability:
    """How much of a text a model can read: counts, and the verdict against the thresholds."""

    model: str
    language: str  # the model's language ("en", "ja")
    unknown: int  # non-special tokens that are [UNK]
    tokens: int  # non-special tokens
    foreign: int  # letters in a script the model does not read
    letters: int
    japanese: int  # letters in a Japanese script (kana, kanji): says which models to point to

    @property
    def unknown_share(self) -> float:
        return self.unknown / self.tokens if self.tokens else 0.0

    @property
    def foreign_share(self) -> float:
        return self.foreign / self.letters if self.letters else 0.0

    @property
    def too_many_unknown(self) -> bool:
        return self.tokens > 0 and self.unknown_share >= UNKNOWN_SHARE

    @property
    def wrong_script(self) -> bool:
        return self.letters > 0 and self.foreign_share >= FOREIGN_SHARE

    @property
    def readable(self) -> bool:
        return not (self.too_many_unknown or self.wrong_script)

    @property
    def mostly_japanese(self) -> bool:
        return self.letters > 0 and self.japanese / self.letters >= FOREIGN_SHARE


def assess(
    text: str, tokens: list[str] | tuple[str, ...], special: Any, model: str, language: str = "en", unk_token: str = UNKNOWN_TOKEN
) -> Readability:
    """Count [UNK] among the non-special ``tokens`` (``special``: a bool per token) and the letters of
    ``text`` outside the scripts of a model in ``language`` (an unknown language reads as English)."""
    words = [token for token, is_special in zip(tokens, special, strict=True) if not is_special]
    scripts = [script for script in map(script_of, text) if script is not None]
    readable = SCRIPTS.get(language, SCRIPTS["en"])
    return Readability(
        model=model,
        language=language,
        unknown=sum(token == unk_token for token in words),
        tokens=len(words),
        foreign=sum(script not in readable for script in scripts),
        letters=len(scripts),
        japanese=sum(script in JAPANESE_SCRIPTS for script in scripts),
    )


def model_language(name: str) -> str:
    """The registered language of a model (``"en"`` for a name the registry does not know)."""
    from .models import REGISTRY

    spec = REGISTRY.get(name)
    return spec.language if spec is not None else "en"


def unk_token_of(name: str) -> str:
    """The tokenizer's unknown token when the model is in memory, BERT's ``[UNK]`` otherwise (a cached
    analysis outlives its loaded model, and a warning must not load one back)."""
    from .models import load_model, loaded_model_names

    if name in loaded_model_names():
        return getattr(load_model(name).tokenizer, "unk_token", None) or UNKNOWN_TOKEN
    return UNKNOWN_TOKEN


def of_analysis(analysis: Any) -> Readability:
    """``assess`` an ``Analysis``, or a ``WindowedAnalysis`` (QA: the question and the whole context,
    the tokens of every window)."""
    windows = getattr(analysis, "windows", None)
    parts = windows if windows is not None else (analysis,)
    texts = (analysis.question, analysis.context) if windows is not None else (analysis.text, analysis.pair)
    text = " ".join(part for part in texts if part)
    tokens = [token for part in parts for token in part.tokens]
    special = [bool(flag) for part in parts for flag in part.special_mask]
    name = analysis.model_name
    return assess(text, tokens, special, name, model_language(name), unk_token_of(name))


def combined(found: list[Readability]) -> Readability:
    """One verdict for several texts read by the same model (the Embeddings and Compare tabs): counts summed."""
    first = found[0]
    return Readability(
        model=first.model,
        language=first.language,
        unknown=sum(one.unknown for one in found),
        tokens=sum(one.tokens for one in found),
        foreign=sum(one.foreign for one in found),
        letters=sum(one.letters for one in found),
        japanese=sum(one.japanese for one in found),
    )


def japanese_models(task: str | None) -> list[str]:
    """Registered Japanese models with ``task``'s head (``None``: the Japanese encoders)."""
    from .models import REGISTRY

    return [name for name, spec in REGISTRY.items() if spec.language == "ja" and spec.task == task]


def warnings_for(found: Readability, task: str | None = None) -> tuple[Msg, ...]:
    """The warnings for a text the model cannot read (``()`` when it can): why, and which models can."""
    if found.readable:
        return ()
    lines: list[Msg] = []
    if found.wrong_script:
        share = f"{found.foreign_share:.0%}"
        lines.append(
            Msg("read.wrong_script_ja" if found.mostly_japanese else "read.wrong_script", model=found.model, share=share)
        )
    if found.too_many_unknown:
        share = f"{found.unknown_share:.0%}"
        lines.append(Msg("read.too_many_unknown", model=found.model, count=found.unknown, total=found.tokens, share=share))
    if found.mostly_japanese and found.language != "ja":
        # point to the models that read Japanese: this task's, else the encoders (the Attention tab shows them)
        named = japanese_models(task)
        if named:
            lines.append(Msg("read.try_task_models" if task else "read.try_models", models=", ".join(named)))
        elif japanese_models(None):
            lines.append(Msg("read.no_task_model", models=", ".join(japanese_models(None))))
    return tuple(lines)


def check(analysis: Any, task: str | None = None) -> tuple[Readability, tuple[Msg, ...]]:
    """The readability of an analysis (or of a list of analyses by one model, taken together) and its
    warnings, in one call (what presenters use)."""
    found = combined([of_analysis(one) for one in analysis]) if isinstance(analysis, list) else of_analysis(analysis)
    return found, warnings_for(found, task)


def unreliable(found: Readability) -> Msg | None:
    """The short reason to print beside a task's label when it should not be trusted, else ``None``."""
    if found.readable:
        return None
    return Msg("read.unreliable", model=found.model)
