"""English / Japanese for the interface: labels, help texts, explanations, buttons, tab names.

The UI is written in English; ``JA`` maps each English string to Japanese (gettext style,
so a builder keeps its text next to its component). ``collect`` walks a built Blocks
and finds every component whose label, info or text has a translation; ``relabel``
returns the updates for one language. A test checks that every static string of the
app has a Japanese entry, so a new label cannot be left untranslated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import gradio as gr

LANGUAGES = [("English", "en"), ("日本語", "ja")]

JA: dict[str, str] = {
    # app header and shared controls
    "# attention-explorer\nSee inside BERT: how text becomes tokens, where each attention head looks, and how positions "
    "are encoded. Follows the Transformer/BERT chapter (sections 3.1–3.9). Default model: all-MiniLM-L6-v2, embedded and "
    "offline.": "# attention-explorer\nBERT の内部を見てみましょう。テキストがどのようにトークンになり、各 Attention ヘッドがどこを見て、"
    "位置がどのように符号化されるか。Transformer/BERT の章(3.1〜3.9 節)に沿っています。既定のモデルは all-MiniLM-L6-v2"
    "(同梱・オフラインで動作)。",
    "Language": "言語",
    "Projection mode (large text, high contrast)": "プロジェクター表示(大きな文字・高コントラスト)",
    "Link to this view": "この表示へのリンク",
    "Copy a link that reopens this tab with the same text, model, layer and head.": "同じタブ・テキスト・モデル・層・ヘッドを開くリンクをコピーします。",
    "Copy link": "リンクをコピー",
    "Text": "テキスト",
    "Model": "モデル",
    "Hub models need internet the first time; the embedded ones always work offline.": "Hub のモデルは初回にインターネットが必要です。同梱モデルは常にオフラインで動きます。",
    "Examples": "例",
    "Layer": "層(レイヤー)",
    "Head": "ヘッド",
    # tokenization
    "Tokenization": "トークン化",
    "### How does a model read text?\nBERT never sees characters: a **tokenizer** cuts the text into pieces from a fixed "
    "vocabulary (English: WordPiece, `##` marks a piece that continues a word) and adds `[CLS]` and `[SEP]`. Japanese BERT "
    "first splits words with **MeCab** (section 3.8). Try a rare word, an emoji or Japanese.": "### モデルはテキストをどう読む?\n"
    "BERT は文字を直接は見ません。**トークナイザー**が固定の語彙に従ってテキストを断片に切り分け(英語は WordPiece。`##` は単語の続きの断片)、"
    "`[CLS]` と `[SEP]` を加えます。日本語 BERT はまず **MeCab** で単語に分けます(3.8 節)。珍しい単語、絵文字、日本語を試してみましょう。",
    "Tokenize": "トークン化する",
    "#### Model tokenizer (WordPiece)": "#### モデルのトークナイザー(WordPiece)",
    "Which characters each token covers": "各トークンが覆う文字",
    "Tokens, ids, attention mask": "トークン・ID・アテンションマスク",
    "#### Japanese: MeCab (unidic-lite) → character subwords": "#### 日本語:MeCab(unidic-lite)→ 文字サブワード",
    "Morphemes by part of speech": "品詞ごとの形態素",
    "Morphemes": "形態素",
    "BertJapaneseTokenizer subwords": "BertJapaneseTokenizer のサブワード",
    # attention
    "Attention": "Attention",
    "### Self-attention, head by head\nEach row is a **query** token; the colours show how it spreads its attention "
    "(softmax(QKᵀ/√d_k), rows sum to 1) over the **key** tokens. Every layer has several heads that learn different "
    "relations (section 3.3). Change layer and head: the model does not run again. Many heads park attention on `[SEP]`: "
    "hide the special tokens to see the rest.": "### Self-Attention をヘッドごとに\n各行が **クエリ** のトークンです。"
    "色は、そのトークンが **キー** のトークンに Attention(softmax(QKᵀ/√d_k)、各行の和は 1)をどう配分するかを示します。"
    "各層には異なる関係を学んだ複数のヘッドがあります(3.3 節)。層とヘッドを変えてもモデルは再実行されません。"
    "多くのヘッドは `[SEP]` に Attention を置きます。特殊トークンを隠すと残りが見えます。",
    "Analyze": "解析する",
    "Query token (its attention row)": "クエリのトークン(その Attention の行)",
    "Hide [CLS]/[SEP]": "[CLS]/[SEP] を隠す",
    "Renormalise rows over visible tokens": "見えているトークンで各行を正規化し直す",
    "One head": "1 つのヘッド",
    "Attention row of the query token": "クエリのトークンの Attention の行",
    "Mean over heads": "ヘッドの平均",
    "All heads of the layer": "この層のすべてのヘッド",
    "bertviz: head view and model view (interactive, drawn in the browser)": "bertviz:ヘッドビューとモデルビュー(ブラウザーで描画・操作可能)",
    "[bertviz](https://github.com/jessevig/bertviz)'s views of the same analysis. **Head view**: the chosen layer's heads, "
    "one colour each; hover a token to see where it looks, click a colour to toggle a head. **Model view**: every layer × "
    "head as a thumbnail; click one to enlarge. The layer slider above picks the layer.": "同じ解析を "
    "[bertviz](https://github.com/jessevig/bertviz) で表示します。**ヘッドビュー**:選んだ層のヘッドを色分けして表示。"
    "トークンにカーソルを当てると参照先が、色をクリックするとヘッドの表示/非表示が切り替わります。**モデルビュー**:"
    "すべての層 × ヘッドの縮小図。クリックで拡大します。層は上のスライダーで選びます。",
    "View": "表示",
    "Head view": "ヘッドビュー",
    "Model view": "モデルビュー",
    "Check: the chapter's formula reproduces this layer": "確認:章の数式でこの層を再現する",
    "Recompute this layer with numpy (explorer/scratch.py)": "この層を numpy で計算し直す(explorer/scratch.py)",
    # positional encoding
    "Positional encoding": "位置エンコーディング",
    "### Where is each token? Positional encoding\nSelf-attention alone ignores word order, so position information is "
    "added to every token. The original Transformer uses fixed waves, PE(pos, 2i) = sin(pos / 10000^(2i/d_model)) and "
    "PE(pos, 2i+1) = cos(…) (section 3.4); BERT instead **learns** one vector per position. Compare them: low dimensions "
    "change fast, high ones slowly, and nearby positions look alike.": "### 各トークンはどこにある? 位置エンコーディング\n"
    "Self-Attention だけでは語順が分からないため、各トークンに位置の情報を加えます。元の Transformer は固定の波、"
    "PE(pos, 2i) = sin(pos / 10000^(2i/d_model))、PE(pos, 2i+1) = cos(…) を使います(3.4 節)。BERT は位置ごとのベクトルを"
    "**学習**します。比べてみましょう:低い次元は速く、高い次元はゆっくり変化し、近い位置どうしは似ています。",
    "d_model (sinusoidal)": "d_model(正弦波)",
    "Positions to show": "表示する位置の数",
    "Dimensions to plot (comma-separated)": "描く次元(カンマ区切り)",
    "Model for the learned embeddings": "学習された埋め込みのモデル",
    "Plot": "描画する",
    "#### Sinusoidal (the chapter's formula)": "#### 正弦波(章の数式)",
    "PE matrix": "PE 行列",
    "Chosen dimensions": "選んだ次元",
    "Similarity between positions": "位置どうしの類似度",
    "#### Learned (the model's position embeddings)": "#### 学習されたもの(モデルの位置埋め込み)",
    "Embedding matrix": "埋め込み行列",
    # sentiment
    "Sentiment": "感情分析",
    "### Sentiment: a fine-tuned BERT classifier\nA classification head reads the final **[CLS]** vector (section 3.7). "
    "Below: the predicted label, where [CLS] attends, and an **attention rollout** (attention multiplied through all "
    "layers, with the residual path) coloured over your text: a rough map of which words reached [CLS].": "### 感情分析:"
    "ファインチューニングした BERT 分類器\n分類ヘッドが最終層の **[CLS]** ベクトルを読みます(3.7 節)。下に、予測ラベル、"
    "[CLS] の Attention の向き先、そして **Attention Rollout**(残差の経路を含めて全層の Attention を掛け合わせたもの)を"
    "テキスト上に色で示します。どの単語が [CLS] に届いたかのおおまかな地図です。",
    "Classify": "分類する",
    "Prediction": "予測",
    "Attention rollout from [CLS] (darker = more)": "[CLS] からの Attention Rollout(濃いほど大きい)",
    "Result (API)": "結果(API)",
    "Attention of the classifier": "分類器の Attention",
    "[CLS] attention row": "[CLS] の Attention の行",
    # NER
    "NER": "固有表現抽出",
    "### Named-entity recognition: a tag for every token\nA token-classification head tags each WordPiece token `B-`/`I-` "
    "+ PER, ORG, LOC or MISC (CoNLL-03, section 3.7); tags are then grouped back into entities. Compare the grouping "
    "strategies on words split into several pieces.": "### 固有表現抽出:トークンごとのタグ\nトークン分類ヘッドが各 "
    "WordPiece トークンに `B-`/`I-` + PER(人名)、ORG(組織)、LOC(地名)、MISC(その他)のタグを付けます(CoNLL-03、"
    "3.7 節)。タグはまとめ直されて固有表現になります。複数の断片に分かれた単語で、まとめ方を比べてみましょう。",
    "Grouping (aggregation strategy)": "まとめ方(aggregation strategy)",
    "Find entities": "固有表現を探す",
    "Entities": "固有表現",
    "Entities with scores": "固有表現とスコア",
    "Entities (API)": "固有表現(API)",
    "Tag per token": "トークンごとのタグ",
    "Token": "トークン",
    "The tagger's attention for the token": "そのトークンに対するタグ付けモデルの Attention",
    # QA
    "QA": "質問応答",
    "### Extractive question answering\nThe model reads the question and the context together and scores every token as "
    "the **start** and the **end** of the answer (section 3.7); the best span with start ≤ end wins. Long contexts are "
    "read in overlapping windows, none is cut silently.": "### 抽出型の質問応答\nモデルは質問と文脈を一緒に読み、"
    "すべてのトークンを答えの **開始** と **終了** として採点します(3.7 節)。開始 ≤ 終了 で最良の範囲が答えです。"
    "長い文脈は重なり合うウィンドウで読み、黙って切り捨てることはしません。",
    "Question": "質問",
    "Context": "文脈",
    "Answer": "答える",
    "Answer in the context": "文脈の中の答え",
    "Answer (API)": "答え(API)",
    "Top answers": "上位の答え",
    "Head (-1 = mean of all heads)": "ヘッド(-1 = 全ヘッドの平均)",
    "Start / end probabilities": "開始/終了の確率",
    "Attention from the answer to the question": "答えから質問への Attention",
}

PROPS = ("label", "info", "placeholder")
TEXT_VALUE = (gr.Markdown, gr.Button)  # components whose value is their text


@dataclass(frozen=True)
class Translatable:
    component: gr.components.Component | gr.blocks.BlockContext
    english: dict[str, str | list]  # prop -> English text (or Radio choices)


def collect(demo: gr.Blocks) -> list[Translatable]:
    """Every component of ``demo`` with a label, help text or text that ``JA`` translates."""
    found = []
    for block in demo.blocks.values():
        props: dict[str, str | list] = {}
        for prop in PROPS:
            value = getattr(block, prop, None)
            if isinstance(value, str) and value in JA:
                props[prop] = value
        if isinstance(block, TEXT_VALUE) and isinstance(block.value, str) and block.value in JA:
            props["value"] = block.value
        if isinstance(block, gr.Radio) and any(label in JA for label, _ in block.choices):
            props["choices"] = [(label, value) for label, value in block.choices]
        if props:
            found.append(Translatable(block, props))
    return found


def text(english: str, language: str) -> str:
    return JA.get(english, english) if language == "ja" else english


def relabel(items: list[Translatable], language: str) -> list:
    """One ``gr.update`` per collected component, in ``language``."""
    updates = []
    for item in items:
        update = {}
        for prop, english in item.english.items():
            if prop == "choices":
                update[prop] = [(text(label, language), value) for label, value in english]
            else:
                update[prop] = text(english, language)
        updates.append(gr.update(**update))
    return updates


def detect(query_language: str | None, accept_language: str | None) -> str:
    """``?lang=`` wins; otherwise the browser's preferred language (Accept-Language), else English."""
    if query_language in ("en", "ja"):
        return query_language
    preferred = (accept_language or "").split(",")[0].strip().lower()
    return "ja" if preferred.startswith("ja") else "en"


# ---------------------------------------------------------------- messages (status lines)

BUTTONS_JA = {"Analyze": "解析する", "Find entities": "固有表現を探す", "Answer": "答える", "Classify": "分類する"}

# (English pattern, Japanese template). Templates use the pattern's named groups.
MESSAGES: list[tuple[str, str]] = [
    (
        r"Please enter some text to analyse \(the input is empty or only whitespace\)\.",
        "解析するテキストを入力してください(入力が空か空白だけです)。",
    ),
    (r"Click (?P<button>Analyze|Find entities|Answer|Classify) first\.", "先に「{button}」を押してください。"),
    (r"'(?P<m>[^']+)': (?P<l>\d+) layers × (?P<h>\d+) heads, (?P<t>\d+) tokens\.", "'{m}':{l} 層 × {h} ヘッド、{t} トークン。"),
    (r"(?P<n>\d+) tokens from '(?P<m>[^']+)' for (?P<c>[\d,]+) characters\.", "'{m}' は {c} 文字を {n} トークンにしました。"),
    (r"Japanese subwords from the '(?P<m>[^']+)' vocabulary\.", "日本語のサブワードは '{m}' の語彙によるものです。"),
    (
        r"Japanese subwords from the offline character vocabulary \(assets/ja_char_vocab\.txt\)\.",
        "日本語のサブワードはオフラインの文字語彙(assets/ja_char_vocab.txt)によるものです。",
    ),
    (
        r"Showing the first (?P<a>[\d,]+) of (?P<b>[\d,]+) MeCab morphemes\.",
        "MeCab の形態素 {b} 個のうち最初の {a} 個を表示しています。",
    ),
    (
        r"The input had (?P<n>[\d,]+) characters; only the first (?P<k>[\d,]+) were read\.",
        "入力は {n} 文字ありました。最初の {k} 文字だけを読みました。",
    ),
    (r"Removed (?P<n>\d+) control characters? from the input\.", "入力から制御文字を {n} 個取り除きました。"),
    (
        r"The text needs (?P<n>[\d,]+) tokens but '(?P<m>[^']+)' reads at most (?P<k>\d+): "
        r"only the first (?P<j>\d+) tokens were analysed\.",
        "このテキストには {n} トークン必要ですが、'{m}' が読めるのは最大 {k} トークンです。最初の {j} トークンだけを解析しました。",
    ),
    (
        r"The context needs (?P<w>\d+) windows of (?P<k>\d+) tokens \(overlapping by (?P<s>\d+)\); all were read\.",
        "文脈を {k} トークンのウィンドウ {w} 個(重なり {s} トークン)に分け、すべて読みました。",
    ),
    (
        r"The question is too long \((?P<n>\d+) tokens\); keep it under (?P<k>\d+) tokens\.",
        "質問が長すぎます({n} トークン)。{k} トークン未満にしてください。",
    ),
    (r"'(?P<m>[^']+)': (?P<n>\d+) entit(?:y|ies) \((?P<s>\w+) grouping\)\.", "'{m}':固有表現 {n} 個({s} でまとめました)。"),
    (r"No answer span found\.", "答えの範囲が見つかりませんでした。"),
    (
        r"'(?P<m>[^']+)': “(?P<a>.*)” \(score (?P<s>[\d.]+), characters (?P<b>\d+)–(?P<e>\d+)\)\.",
        "'{m}':「{a}」(スコア {s}、{b}〜{e} 文字目)。",
    ),
    (
        r"Low confidence \((?P<s>[\d.]+)\): the context may not contain the answer to this question\.",
        "確信度が低いです({s})。文脈にこの質問の答えがないかもしれません。",
    ),
    (
        r"The model's no-answer score \((?P<s>[\d.]+)\) beats its best span: the context may not answer this question\.",
        "「答えなし」のスコア({s})が最良の範囲を上回りました。文脈はこの質問に答えていないかもしれません。",
    ),
    (r"'(?P<m>[^']+)': (?P<l>[\w-]+) \((?P<p>[\d.]+%)\)\.", "'{m}':{l}({p})。"),
    (r"Ignored “(?P<p>.*)”: dimensions are whole numbers\.", "「{p}」を無視しました。次元は整数で指定してください。"),
    (
        r"Ignored dimension (?P<d>-?\d+): it must be between 0 and (?P<k>\d+)\.",
        "次元 {d} を無視しました。0 から {k} の間で指定してください。",
    ),
    (
        r"'(?P<m>[^']+)' learned only (?P<n>\d+) positions: its plots stop there\.",
        "'{m}' が学習した位置は {n} 個だけなので、グラフはそこまでです。",
    ),
    (r"Showing the embedded (?:default|model) '(?P<m>[^']+)' instead\.", "代わりに同梱モデル '{m}' で表示しています。"),
    (
        r"(?P<u>\d+) of (?P<n>\d+) tokens are \[UNK\]: '(?P<m>[^']+)' has no vocabulary entry for those characters, so the "
        r"model cannot tell them apart\. A Japanese model \(e\.g\. Tohoku BERT\) covers Japanese\.",
        "{n} トークンのうち {u} 個が [UNK] です。'{m}' の語彙にはこれらの文字がないため、モデルは区別できません。"
        "日本語のモデル(東北大 BERT など)なら日本語を扱えます。",
    ),
    (
        r"bertviz draws one line per token pair: showing the first (?P<k>\d+) of (?P<n>\d+) tokens \(the heatmaps above "
        r"show them all\)\.",
        "bertviz はトークンの組ごとに線を 1 本描くため、{n} トークンのうち最初の {k} 個だけを表示しています(上のヒートマップはすべて表示)。",
    ),
    (
        r"Weights below (?P<t>[\d.e-]+) are not sent \(bertviz would draw them at under (?P<p>[\d.]+%) opacity\)\.",
        "{t} 未満の重みは送っていません(bertviz では不透明度 {p} 未満の線になるため)。",
    ),
    (
        r"Layers (?P<a>\d+)–(?P<b>\d+) of (?P<n>\d+): bertviz draws layers × heads × tokens² lines, too many for a browser "
        r"at this length\. Move the layer slider to see the others\.",
        "{n} 層のうち {a}〜{b} 層を表示しています。bertviz は 層 × ヘッド × トークン² 本の線を描くため、この長さでは"
        "ブラウザーに重すぎます。ほかの層は層のスライダーで選んでください。",
    ),
    (
        r"Layer (?P<l>\d+): numpy `softmax\(QKᵀ/√d_k\)` with the model's own W_Q, W_K and biases, applied to the layer's "
        r"input hidden states, differs from the model's attention by at most \*\*(?P<e>[^*]+)\*\* over all (?P<h>\d+) heads "
        r"and (?P<t>\d+)² token pairs\.",
        "{l} 層:モデル自身の W_Q・W_K とバイアスを層の入力の隠れ状態に適用した numpy の `softmax(QKᵀ/√d_k)` と、"
        "モデルの Attention との差は、全 {h} ヘッド・{t}² 組のトークンで最大 **{e}** です。",
    ),
    (
        r"Model '(?P<m>[^']+)' is not a text classifier: pick a sentiment model\.",
        "モデル '{m}' はテキスト分類器ではありません。感情分析のモデルを選んでください。",
    ),
    (
        r"Model '(?P<m>[^']+)' is not a token classifier: pick an NER model\.",
        "モデル '{m}' はトークン分類器ではありません。固有表現抽出のモデルを選んでください。",
    ),
    (
        r"Could not load model '(?P<m>[^']+)' from the Hugging Face hub id (?P<s>\S+)\. It is not in the local cache and the "
        r"hub could not be reached\. On a machine with internet, run: (?P<cmd>.*) then try again\. The embedded default "
        r"'(?P<d>[^']+)' keeps working offline\.",
        "モデル '{m}'(Hugging Face hub の {s})を読み込めませんでした。ローカルのキャッシュになく、hub にも接続できません。"
        "インターネットにつながる環境で {cmd} を実行してから、もう一度試してください。同梱の既定モデル '{d}' はオフラインで動き続けます。",
    ),
    (
        r"Model '(?P<m>[^']+)' needs the Python package\(s\) (?P<p>.+)\. Install with: (?P<hint>.+)",
        "モデル '{m}' には Python パッケージ {p} が必要です。インストール方法:{hint}",
    ),
    (r"Unknown model '(?P<m>[^']+)'\. Choose one of: (?P<k>.+)\.", "不明なモデル '{m}' です。次から選んでください:{k}。"),
    (
        r"Something went wrong \((?P<e>\w+)\)\. Please try a different input; the details are in the server log\.",
        "問題が発生しました({e})。別の入力を試してください。詳細はサーバーのログにあります。",
    ),
    (
        r"Loading (?P<m>\S+) \(first use; hub models may download\) …",
        "{m} を読み込んでいます(初回のみ。hub のモデルはダウンロードします)…",
    ),
    (
        r"unknown bertviz view (?P<k>.+): use 'head' or 'model'",
        "bertviz の表示 {k} はありません。'head' か 'model' を指定してください",
    ),
]
_COMPILED = [(re.compile(pattern + r"\Z", re.S), template) for pattern, template in MESSAGES]
COOKIE = "explorer_lang"
SET_COOKIE_JS = "(lang) => { document.cookie = 'explorer_lang=' + lang + ';path=/;SameSite=Lax'; return lang; }"


def message(english: str, language: str) -> str:
    """``english`` (a status line) in ``language``; a line without a pattern stays as it is."""
    if language != "ja":
        return english
    for pattern, template in _COMPILED:
        match = pattern.match(english)
        if match:
            groups = match.groupdict()
            if "button" in groups:
                groups["button"] = BUTTONS_JA[groups["button"]]
            return template.format(**groups)
    return english


def current_language() -> str:
    """The language of the request being served: the page's switch (a cookie), else the browser's."""
    from gradio.context import LocalContext

    request = LocalContext.request.get(None)
    if request is None:
        return "en"
    try:
        chosen = request.cookies.get(COOKIE)
        accept = request.headers.get("accept-language")
    except AttributeError:  # a request without cookies or headers (e.g. called from Python)
        return "en"
    return detect(chosen, accept)


# ---------------------------------------------------------------- text inside figures

FIGURE_WORDS_JA = {
    "weight": "重み",
    "attention weight": "Attention の重み",
    "key (attended to)": "キー(参照される側)",
    "query (attending)": "クエリ(参照する側)",
    "position": "位置",
    "dimension": "次元",
    "value": "値",
    "cosine": "コサイン類似度",
    "probability": "確率",
    "start": "開始",
    "end": "終了",
}
FIGURE_TITLES: list[tuple[str, str]] = [
    (r"Layer (?P<l>\d+), head (?P<h>\d+): where “(?P<q>.*)” looks", "{l} 層、ヘッド {h}:「{q}」の参照先"),
    (r"Layer (?P<l>\d+), head (?P<h>\d+)(?P<s>.*)", "{l} 層、ヘッド {h}{s}"),
    (r"Layer (?P<l>\d+), mean of (?P<n>\d+) heads(?P<s>.*)", "{l} 層、{n} ヘッドの平均{s}"),
    (r"Layer (?P<l>\d+): all (?P<n>\d+) heads(?P<s>.*)", "{l} 層:全 {n} ヘッド{s}"),
    (r"Answer tokens → question tokens \(layer (?P<l>\S+), (?P<w>.+)\)", "答えのトークン → 質問のトークン({l} 層、{w})"),
    (r"Where “(?P<t>.*)” looks \(layer (?P<l>\d+), head (?P<h>\d+)\)", "「{t}」の参照先({l} 層、ヘッド {h})"),
    (r"Classifier attention: layer (?P<l>\d+), head (?P<h>\d+)", "分類器の Attention:{l} 層、ヘッド {h}"),
    (r"Where \[CLS\] looks \(layer (?P<l>\d+), head (?P<h>\d+)\)", "[CLS] の参照先({l} 層、ヘッド {h})"),
    (r"Sinusoidal PE: (?P<n>\d+) positions × d_model=(?P<d>\d+)", "正弦波の位置エンコーディング:{n} 位置 × d_model={d}"),
    (r"Sinusoidal PE: chosen dimensions along the positions", "正弦波の位置エンコーディング:選んだ次元の位置による変化"),
    (r"Sinusoidal PE: cosine similarity of positions", "正弦波の位置エンコーディング:位置どうしのコサイン類似度"),
    (r"Learned position embeddings of (?P<m>.+): (?P<a>\d+) × (?P<b>\d+)", "{m} が学習した位置埋め込み:{a} × {b}"),
    (r"Learned embeddings of (?P<m>.+): chosen dimensions", "{m} が学習した埋め込み:選んだ次元"),
    (r"Learned position embeddings of (?P<m>.+): cosine similarity", "{m} が学習した位置埋め込み:コサイン類似度"),
    (r"Start and end probability of each token", "各トークンが開始・終了である確率"),
    (r"head (?P<h>\d+)", "ヘッド {h}"),
    (r"dim (?P<d>\d+)", "次元 {d}"),
]
TITLE_PIECES_JA = [
    (" — [CLS]/[SEP] hidden", " — [CLS]/[SEP] を非表示"),
    (", rows renormalised", "、行を正規化し直し"),
    ("mean of heads", "ヘッドの平均"),
    (r" (thumbnails: mean over blocks of ~", "(縮小図:約 "),
    (" tokens)", " トークンごとの平均)"),
]
_FIGURE_COMPILED = [(re.compile(pattern + r"\Z", re.S), template) for pattern, template in FIGURE_TITLES]


def figure_text(english: str) -> str:
    """A figure's title, axis name, legend entry or annotation in Japanese."""
    if english in FIGURE_WORDS_JA:
        return FIGURE_WORDS_JA[english]
    for pattern, template in _FIGURE_COMPILED:
        match = pattern.match(english)
        if match:
            groups = match.groupdict()
            for key in ("s", "w"):
                if key in groups:
                    for piece, japanese in TITLE_PIECES_JA:
                        groups[key] = groups[key].replace(piece, japanese)
                    groups[key] = re.sub(r"^head (\d+)$", r"ヘッド \1", groups[key])
            return template.format(**groups)
    return english


def _localize(node: object) -> object:
    """Translate the strings plotly shows as words: ``text`` of titles and annotations, trace ``name``."""
    if isinstance(node, dict):
        return {
            key: figure_text(value) if key in ("text", "name") and isinstance(value, str) else _localize(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_localize(item) for item in node]
    return node


def localize_figure(figure: object, language: str) -> object:
    """``figure`` (a ``views.PlotlySpec`` or a ``go.Figure``) with its words in ``language``."""
    if language != "ja":
        return figure
    import json

    from ..views import PlotlySpec

    spec = figure if isinstance(figure, dict) else json.loads(figure.to_json())  # arrays as plotly's base64
    return PlotlySpec(_localize(dict(spec)))
