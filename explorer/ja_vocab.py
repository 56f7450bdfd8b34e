"""Build the offline Japanese character vocabulary shipped in ``assets/``.

The Tohoku "char" BERT models split MeCab words into single characters and look
each one up in a ~6,000-entry character vocabulary. Their vocabulary cannot be
downloaded here, so we build an equivalent one from a public, reproducible source:
every character of the JIS X 0208 set (the kana, level-1 and level-2 kanji that
Japanese text is written with), enumerated through Python's own ``euc_jp`` codec,
plus printable ASCII. Run ``python -m explorer.ja_vocab`` to rebuild the file.
"""

from __future__ import annotations

from pathlib import Path

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
VOCAB_PATH = Path(__file__).resolve().parent.parent / "assets" / "ja_char_vocab.txt"


def jis_x_0208_characters() -> list[str]:
    """Every character of JIS X 0208, in code order (EUC-JP rows 0xA1-0xFE)."""
    chars: list[str] = []
    for row in range(0xA1, 0xFF):
        for cell in range(0xA1, 0xFF):
            try:
                char = bytes([row, cell]).decode("euc_jp")
            except UnicodeDecodeError:
                continue  # unassigned code point
            if len(char) == 1 and not char.isspace():
                chars.append(char)
    return chars


def build_character_vocab() -> list[str]:
    """Special tokens, printable ASCII, then JIS X 0208, without duplicates."""
    vocab: list[str] = list(SPECIAL_TOKENS)
    seen = set(vocab)
    for char in [chr(c) for c in range(0x21, 0x7F)] + jis_x_0208_characters():
        if char not in seen:
            seen.add(char)
            vocab.append(char)
    return vocab


def write_vocab(path: Path = VOCAB_PATH) -> int:
    vocab = build_character_vocab()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return len(vocab)


if __name__ == "__main__":
    print(f"wrote {write_vocab()} entries to {VOCAB_PATH}")
