"""Synthetic news sentences for the NER recipe, labelled by construction.

The teacher-labelled VADER snippets rarely name companies with their legal form
("Inc.", "Corp.", "Ltd"), so the student tagged the suffix O. These sentences fill
news-style templates with names from Faker (MIT; PyPI ``faker``): people, cities,
countries, and companies made of a surname or a common English word plus a legal
form. Entity spans are known exactly, so no teacher is needed. Amounts, dates and
numbers appear as plain text (O), as in CoNLL-03. The hand-annotated gold set is
never used to write or pick templates.
"""

from __future__ import annotations

import random
import re

from .ner import Sentence

SUFFIXES = ("Inc.", "Inc", "Corp.", "Corporation", "Ltd", "Ltd.", "LLC", "PLC", "Co.", "Group", "Holdings", "AG", "GmbH", "S.A.")
AMOUNTS = ("$1 billion", "$40 million", "£300 million", "€2.5 billion", "$900,000", "12 million yen", "$7 a share")
WHEN = ("on Monday", "last week", "in 2019", "this spring", "in March", "on Friday", "earlier this year", "in 2008")

# {PER}, {ORG}, {LOC} are entity slots; {AMOUNT} and {WHEN} are plain text.
TEMPLATES = (
    "{ORG} is looking at buying {LOC} startup {ORG} for {AMOUNT}.",
    "{PER} is the chief executive of {ORG}.",
    "{ORG} said {WHEN} that it would cut 2,000 jobs in {LOC}.",
    "Shares of {ORG} rose 4 percent after {PER} announced the deal.",
    "{PER}, who founded {ORG} in {LOC}, stepped down {WHEN}.",
    "{ORG} agreed to pay {AMOUNT} to settle the lawsuit brought by {ORG}.",
    "Analysts expect {ORG} to open a factory near {LOC}.",
    "{ORG} hired {PER} as its new finance chief.",
    "The merger between {ORG} and {ORG} was approved by regulators in {LOC}.",
    "{PER} told reporters in {LOC} that {ORG} had no plans to sell.",
    "{ORG} reported a loss of {AMOUNT} for the quarter.",
    "Last year {ORG} moved its headquarters from {LOC} to {LOC}.",
    "According to {PER}, {ORG} will release the product {WHEN}.",
    "{ORG} bought a majority stake in {ORG} {WHEN}.",
    "Workers at the {ORG} plant in {LOC} went on strike.",
    "{PER} joined {ORG} after ten years at {ORG}.",
    "The board of {ORG} met in {LOC} to discuss the offer.",
    "{ORG}, based in {LOC}, makes parts for cars and planes.",
    "Investors sued {ORG} and its founder {PER}.",
    "{PER} visited {LOC} and {LOC} to meet suppliers.",
    "A spokesperson for {ORG} declined to comment.",
    "{ORG} is the largest employer in {LOC}.",
    "{PER} and {PER} started the company in a garage in {LOC}.",
    "{ORG} will invest {AMOUNT} in a new data center in {LOC}.",
    "Regulators in {LOC} fined {ORG} {AMOUNT}.",
    "{PER} is the CEO. {ORG} employs 300 people in {LOC}.",
    "The deal values {ORG} at {AMOUNT}, {PER} said.",
    "{ORG} and {ORG} signed a supply agreement {WHEN}.",
    "{PER} was born in {LOC} and later worked for {ORG}.",
    "Customers of {ORG} in {LOC} lost power for two days.",
    "{ORG} plans to list its shares in {LOC} {WHEN}.",
    "Police in {LOC} questioned {PER} about the fire.",
    "{PER} won the election in {LOC} by 400 votes.",
    "The new store opened in {LOC} {WHEN}, {ORG} said.",
    "{ORG} recalled 50,000 heaters sold in {LOC}.",
    "{PER} of {ORG} said demand in {LOC} was weak.",
)


def _company(fake, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.35:
        stem = fake.last_name()
    elif roll < 0.7:
        stem = fake.word().capitalize()  # a common word, as in "Apple Inc." or "Oracle Corp."
    elif roll < 0.85:
        stem = f"{fake.word().capitalize()} {fake.word().capitalize()}"
    else:
        return fake.company()  # Faker's own: "Wilson-Hodges", "Day, Thomas and Campbell", "Lee PLC"
    return f"{stem} {rng.choice(SUFFIXES)}"


def _location(fake, british, rng: random.Random) -> str:
    if rng.random() < 0.4:
        return re.sub(r" \(.*\)", "", fake.country())  # "Antarctica (the territory South of 60 deg S)"
    return (british if rng.random() < 0.3 else fake).city()


def sentences(count: int, seed: int = 2003) -> list[Sentence]:
    """``count`` sentences with exact (start, end, type) spans."""
    from faker import Faker

    fake, british = Faker("en_US"), Faker("en_GB")  # en_US words are English; en_GB's are lorem ipsum
    fake.seed_instance(seed)
    british.seed_instance(seed + 1)
    rng = random.Random(seed)
    fill = {
        "PER": lambda: f"{fake.first_name()} {fake.last_name()}",  # no "Mr."/"Dr.": CoNLL leaves titles out
        "ORG": lambda: _company(fake, rng),
        "LOC": lambda: _location(fake, british, rng),
    }
    out = []
    for _ in range(count):
        template = rng.choice(TEMPLATES)
        text, entities, cursor = "", [], 0
        for match in re.finditer(r"\{(PER|ORG|LOC|AMOUNT|WHEN)\}", template):
            text += template[cursor : match.start()]
            kind = match.group(1)
            if kind == "AMOUNT":
                text += rng.choice(AMOUNTS)
            elif kind == "WHEN":
                text += rng.choice(WHEN)
            else:
                value = fill[kind]()
                entities.append((len(text), len(text) + len(value), kind))
                text += value
            cursor = match.end()
        text += template[cursor:]
        out.append(Sentence(text, tuple(entities)))
    return out
