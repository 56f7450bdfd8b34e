"""問題5 live, an accordion of the Sentiment tab: train a linear head on the frozen encoder from a
few sentences the class types (the loss curve streams while it trains), then try new sentences
next to the shipped fine-tuned classifier."""

from __future__ import annotations

import gradio as gr

from .. import live_finetune
from ..messages import Msg, render
from ..models import OFFLINE_DEFAULT
from ..present import sentiment
from .common import T, describe_error, figure, guarded, notes_status, status
from .i18n import current_language

TRAINING = """+ I loved this film, it was wonderful.
+ A brilliant, moving story with great acting.
+ What a delightful and funny movie.
- I hated every minute of it.
- A boring, badly written mess.
- The worst film I have seen this year."""
TRYING = """An enjoyable film with a lovely ending.
A tedious and disappointing movie."""
STREAM_EVERY = 5  # epochs between two drawings of the curve
MAX_TRIED = 10  # sentences tried at once


def _verdict(probabilities, language: str) -> str:
    best = int(probabilities.argmax())
    name = render(sentiment.class_name(live_finetune.LABELS[best]), language)
    return f"{name} ({probabilities[best]:.0%})"


def build() -> None:
    with gr.Accordion(T("finetune.accordion"), open=False, elem_id="live-finetune"):
        gr.Markdown(T("finetune.intro"))
        with gr.Row(equal_height=False):
            with gr.Column(scale=1):
                training = gr.Textbox(value=TRAINING, label=T("finetune.examples"), info=T("finetune.examples_info"), lines=7)
                train = gr.Button(T("finetune.train"), variant="primary")
            with gr.Column(scale=1):
                message = gr.Markdown()
                curve = gr.Plot(label=T("finetune.curve"))
        with gr.Row(equal_height=False):
            with gr.Column(scale=1):
                trying = gr.Textbox(value=TRYING, label=T("finetune.try_text"), info=T("finetune.try_info"), lines=3)
                try_button = gr.Button(T("finetune.try"))
            with gr.Column(scale=1):
                tried_message = gr.Markdown()
                tried = gr.Dataframe(  # sentence, your head, the shipped model: every column in view
                    label=T("finetune.results"), interactive=False, wrap=True, column_widths=["46%", "27%", "27%"]
                )
    head = gr.State(None)

    def run_training(text):
        """A generator: the curve is drawn every few epochs while the head trains."""
        language = current_language()
        try:
            sentences, labels = live_finetune.parse(text)
            features = live_finetune.encode(sentences)
            losses, accuracies = [], []
            for epoch in live_finetune.train(features, labels):
                losses.append(epoch.loss)
                accuracies.append(epoch.accuracy)
                if epoch.epoch % STREAM_EVERY == 0 or epoch.epoch == live_finetune.EPOCHS:
                    curve_figure = figure(live_finetune.loss_curve(losses, accuracies), language)
                    done = Msg("finetune.training", epoch=epoch.epoch, epochs=live_finetune.EPOCHS, loss=f"{epoch.loss:.3f}")
                    yield notes_status([done], language), curve_figure, gr.skip()
            summary = Msg(
                "finetune.trained",
                sentences=len(sentences),
                accuracy=f"{accuracies[-1]:.0%}",
                loss=f"{losses[-1]:.3f}",
            )
            yield notes_status([summary], language), gr.skip(), epoch.head
        except Exception as error:  # noqa: BLE001 (the class sees a sentence; a generator cannot be @guarded)
            yield status(error=describe_error(error), language=language), gr.skip(), gr.skip()

    @guarded(2)
    def try_sentences(trained, text):
        language = current_language()
        if trained is None:
            return notes_status([Msg("error.first_run", button=Msg("finetune.train"))], language), gr.skip()
        sentences = [line.strip() for line in (text or "").splitlines() if line.strip()][:MAX_TRIED]
        if not sentences:
            return notes_status([Msg("finetune.nothing_to_try")], language), gr.skip()
        ours = trained.probabilities(live_finetune.encode(sentences))
        rows = []
        for sentence, probabilities in zip(sentences, ours, strict=True):
            shipped = sentiment.present(sentence, OFFLINE_DEFAULT[sentiment.TASK])
            best = max(shipped.probabilities, key=shipped.probabilities.get)
            verdict = f"{render(sentiment.class_name(best), language)} ({shipped.probabilities[best]:.0%})"
            rows.append([sentence, _verdict(probabilities, language), verdict])
        headers = [
            render(Msg("finetune.col_sentence"), language),
            render(Msg("finetune.col_ours"), language),
            render(Msg("finetune.col_shipped"), language),
        ]
        note = Msg("finetune.compared", model=OFFLINE_DEFAULT[sentiment.TASK])
        return notes_status([note], language), gr.Dataframe(value=rows, headers=headers)

    private = dict(api_visibility="private")
    gr.on([train.click], run_training, [training], [message, curve, head], trigger_mode="always_last", **private)
    gr.on([try_button.click, trying.submit], try_sentences, [head, trying], [tried_message, tried], **private)
