"""Synthetic news sentences for the NER recipe, labelled by construction.

The teacher-labelled VADER snippets rarely name companies with their legal form
("Inc.", "Corp.", "Ltd"), long institutional names ("Association for ... Research"),
acronyms, or MISC entities other than a few nationalities, so the student tagged
them badly. These sentences fill news-style templates with:

- people, cities, countries, companies and common English words from Faker
  (MIT; PyPI ``faker``), and Faker's language names;
- long organisation names built from short hand-written word lists written for
  this project (heads such as "Institute", "Foundation", "Corporation"; fields such
  as "Energy Research"), with acronyms made of their initials;
- MISC as CoNLL-03 defines it: nationalities and other group adjectives (a
  hand-written list of demonyms, plain facts), languages, named events, titles
  of works, products and laws, the names again built from Faker words.

Spans follow the CoNLL-03 rules: a determiner is never inside an entity ("the"
stays O in "the National Institute of ..."), names are whole ("X for Y", "X of Y"),
titles ("Dr.", "Mr.") stay out. Amounts, dates and numbers are plain text (O).
Entity spans are known exactly, so no teacher is needed. The hand-annotated gold
set is never used to write or pick templates or names.
"""

from __future__ import annotations

import random
import re

from .ner import Sentence


def _names(text: str) -> tuple[str, ...]:
    """A word list written as one comma-separated string."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


SUFFIXES = ("Inc.", "Inc", "Corp.", "Corporation", "Ltd", "Ltd.", "LLC", "PLC", "Co.", "Group", "Holdings", "AG", "GmbH", "S.A.")
AMOUNTS = ("$1 billion", "$40 million", "£300 million", "€2.5 billion", "$900,000", "12 million yen", "$7 a share")
WHEN = ("on Monday", "last week", "in 2019", "this spring", "in March", "on Friday", "earlier this year", "in 2008")

# Long organisation names: "{head} for/of {field}", "{field} {head}", "{place} {head}".
ORG_HEADS = _names(
    "Association, Institute, Foundation, Society, Council, Committee, Agency, Bureau, Corporation, "
    "Federation, Alliance, Commission, Center, Centre, Academy, Organization, Union, League, Board, "
    "Authority, Administration, Laboratory, Trust, Fund, Network"
)
ORG_FIELDS = _names(
    "Energy Research, Public Health, Marine Biology, Nuclear Research, Rural Development, Science, "
    "Technology, Economic Affairs, Cancer Research, Digital Rights, Civil Liberties, "
    "Space Exploration, Open Standards, Fair Trade, Medical Research, Applied Mathematics, "
    "Transport Safety, Wildlife Protection, Higher Education, Consumer Protection, Climate Studies, "
    "Advanced Materials, Language Resources, Urban Planning, International Development, "
    "Plant Genetics, Water Resources"
)
ORG_PREFIXES = ("National", "International", "European", "American", "Royal", "Federal", "Global", "Pacific", "Northern")
GOVERNMENT = ("Ministry", "Department", "Bank", "University", "Court", "Office", "Museum", "Parliament")
GOVERNMENT_OF = ("Finance", "Defence", "Defense", "Justice", "Agriculture", "Education", "Health", "Labor", "Trade")
MEDIA = ("Times", "Herald", "Post", "Gazette", "Tribune", "Journal", "Chronicle", "Observer")
CIVIC = ("University", "City Council", "Chamber of Commerce", "Symphony Orchestra")
SPORT = ("United", "City", "Rovers", "Athletic", "Wanderers", "Rangers", "FC")

# Nationalities and other groups (CoNLL MISC, OntoNotes NORP), adjective and plural noun.
DEMONYMS = _names(
    "American, British, French, German, Italian, Spanish, Portuguese, Dutch, Belgian, Swiss, "
    "Austrian, Swedish, Norwegian, Danish, Finnish, Polish, Czech, Hungarian, Romanian, Greek, "
    "Turkish, Russian, Ukrainian, Chinese, Japanese, Korean, Vietnamese, Thai, Indian, Pakistani, "
    "Iranian, Iraqi, Israeli, Palestinian, Egyptian, Nigerian, Kenyan, Ethiopian, Moroccan, "
    "Brazilian, Argentine, Mexican, Canadian, Australian, Irish, Scottish, Welsh, European, Asian, "
    "African, Latin American, Arab, Scandinavian, Catholic, Protestant, Muslim, Christian, Jewish, "
    "Buddhist, Hindu, Republican, Democratic, Socialist, Soviet, Bavarian, Texan, Californian, "
    "Parisian"
)
DEMONYMS_PLURAL = _names(
    "Americans, Germans, Italians, Russians, Indians, Israelis, Palestinians, Brazilians, Mexicans, "
    "Canadians, Australians, Europeans, Swedes, Danes, Poles, Greeks, Turks, Kenyans, Nigerians, "
    "Egyptians, Catholics, Muslims, Christians, Republicans, Democrats, Conservatives, Socialists, "
    "Texans, Parisians, New Yorkers, Londoners"
)
EVENT_KINDS = ("Marathon", "Film Festival", "Open", "Grand Prix", "Games", "Book Fair", "Jazz Festival", "Summit", "Cup", "Expo")
WORK_KINDS = ("novel", "film", "album", "play", "song", "documentary", "opera", "poem", "painting", "series")
PRODUCT_KINDS = ("phone", "laptop", "tablet", "car", "camera", "console", "browser", "operating system", "headphones", "drone")
LANGUAGE_USES = ("programming language", "database", "library", "compiler", "framework")

# Entity slots: PER, ORG (a company), LONGORG (an institution), ACRONYM (ORG), LOC,
# NORP, LANGUAGE, EVENT, WORK, PRODUCT, LAW, SOFTWARE (all MISC); AMOUNT and WHEN are plain text.
SLOT_TYPES = {
    "PER": "PER",
    "ORG": "ORG",
    "LONGORG": "ORG",
    "ACRONYM": "ORG",
    "MEDIA": "ORG",
    "TEAM": "ORG",
    "LOC": "LOC",
    "NORP": "MISC",
    "NORPS": "MISC",
    "LANGUAGE": "MISC",
    "EVENT": "MISC",
    "WORK": "MISC",
    "PRODUCT": "MISC",
    "LAW": "MISC",
    "SOFTWARE": "MISC",
}
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
    # Long organisation names, a determiner outside the span, acronyms as ORG.
    "The {LONGORG} said {WHEN} that it would fund the project.",
    "{PER} is the director of the {LONGORG} in {LOC}.",
    "A report by the {LONGORG} warned of rising costs.",
    "The {LONGORG} ({ACRONYM}) was founded in {LOC} in 1988.",
    "Researchers at the {LONGORG} published the data {WHEN}.",
    "{ACRONYM} signed an agreement with the {LONGORG}.",
    "Officials from {ACRONYM} and {ACRONYM} met in {LOC}.",
    "{PER}, a spokesperson for {ACRONYM}, declined to comment.",
    "The {LONGORG} awarded {PER} a grant of {AMOUNT}.",
    "{LONGORG} members voted to elect {PER} as chair.",
    "{PER} left {ACRONYM} to join the {LONGORG}.",
    "The {ACRONYM} board approved the budget {WHEN}.",
    "{PER} told the {MEDIA} that the plan would fail.",
    "An editorial in the {MEDIA} criticised {PER}.",
    "{TEAM} beat {TEAM} 2-1 in {LOC} {WHEN}.",
    "{PER} scored twice as {TEAM} won in {LOC}.",
    "The {LONGORG} and the {LONGORG} will share the prize.",
    # MISC: nationalities and groups, languages, events, works, products, laws, software.
    "The {NORP} government rejected the plan {WHEN}.",
    "{NORP} officials met their {NORP} counterparts in {LOC}.",
    "{PER}, the {NORP} foreign minister, arrived in {LOC}.",
    "Many {NORP} voters supported {PER}.",
    "Thousands of {NORPS} protested in {LOC} {WHEN}.",
    "{PER} said most {NORPS} would back the deal.",
    "The {NORP} team won the {EVENT}.",
    "{ORG} sold its {NORP} unit to {ORG} for {AMOUNT}.",
    "The {NORP} company {ORG} opened an office in {LOC}.",
    "{PER} speaks {LANGUAGE} and {LANGUAGE}.",
    "The book was translated from {LANGUAGE} into {LANGUAGE}.",
    "Most people in the region speak {LANGUAGE}.",
    "{PER} won the {EVENT} for the second time.",
    "The {EVENT} will be held in {LOC} {WHEN}.",
    "{ORG} sponsors the {EVENT}.",
    "Tickets for the {EVENT} sold out in an hour.",
    "{PER} wrote the {WORK_KIND} {WORK} while living in {LOC}.",
    "{WORK} is a {WORK_KIND} by {PER}.",
    "The {WORK_KIND} {WORK} premiered at the {EVENT}.",
    "{PER} starred in {WORK}, which was filmed in {LOC}.",
    "{ORG} launched the {PRODUCT} {PRODUCT_KIND} {WHEN}.",
    "The {PRODUCT} costs {AMOUNT} in {LOC}.",
    "{PER} reviewed the new {PRODUCT} for the {MEDIA}.",
    "Congress passed the {LAW} {WHEN}.",
    "Under the {LAW}, {ORG} must report its emissions.",
    "{PER} voted against the {LAW}.",
    "{ORG} released version 2 of {SOFTWARE}, its {SOFTWARE_KIND}.",
    "The {SOFTWARE} {SOFTWARE_KIND} was written by {PER} at {ORG}.",
    "Engineers at {ACRONYM} rewrote the service in {SOFTWARE}.",
)
PLAIN = {
    "AMOUNT": AMOUNTS,
    "WHEN": WHEN,
    "WORK_KIND": WORK_KINDS,
    "PRODUCT_KIND": PRODUCT_KINDS,
    "SOFTWARE_KIND": LANGUAGE_USES,
}
SLOT = re.compile(r"\{([A-Z_]+)\}")


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


def _place(fake, british, rng: random.Random) -> str:
    return re.sub(r" \(.*\)", "", fake.country()) if rng.random() < 0.5 else (british if rng.random() < 0.3 else fake).city()


def _location(fake, british, rng: random.Random) -> str:
    return _place(fake, british, rng)


def _long_org(fake, british, rng: random.Random) -> str:
    """Whole multi-word institution names: "Association for Energy Research", "Royal Society of Science"."""
    roll = rng.random()
    field = rng.choice(ORG_FIELDS)
    head = rng.choice(ORG_HEADS)
    if roll < 0.3:
        return f"{head} for {field}"
    if roll < 0.45:
        return f"{rng.choice(ORG_PREFIXES)} {head} for {field}"
    if roll < 0.6:
        return f"{rng.choice(ORG_PREFIXES)} {head} of {field}"
    if roll < 0.72:
        return f"{field} {head}"
    if roll < 0.84:
        return f"{rng.choice(GOVERNMENT)} of {rng.choice(GOVERNMENT_OF) if rng.random() < 0.5 else _place(fake, british, rng)}"
    if roll < 0.92:
        return f"{fake.last_name()} {rng.choice(('Research', 'Family', 'Science', 'Arts', 'Heritage'))} {head}"
    return f"{_place(fake, british, rng)} {rng.choice(CIVIC)}"


def _acronym(name: str | None, rng: random.Random) -> str:
    if name:
        letters = "".join(w[0] for w in name.split() if w[0].isupper())
        if len(letters) >= 2:
            return letters
    return "".join(rng.choice("ABCDEFGHIJKLMNOPRSTUW") for _ in range(rng.choice((2, 3, 3, 4))))


def _title(fake, rng: random.Random) -> str:
    """Titles of works, no leading article: "Silent Harbor", "Letters from Lisbon"."""
    noun, adjective = fake.word(part_of_speech="noun").capitalize(), fake.word(part_of_speech="adjective").capitalize()
    roll = rng.random()
    if roll < 0.35:
        return f"{adjective} {noun}"
    if roll < 0.6:
        return f"{noun} of {fake.word(part_of_speech='noun').capitalize()}s"
    if roll < 0.8:
        return f"{fake.word(part_of_speech='noun').capitalize()}s from {fake.city()}"
    return f"{noun}"


def _event(fake, british, rng: random.Random) -> str:
    if rng.random() < 0.3:
        return f"{fake.word(part_of_speech='noun').capitalize()} {rng.choice(('Festival', 'Awards', 'Conference', 'Prize'))}"
    return f"{_place(fake, british, rng)} {rng.choice(EVENT_KINDS)}"


def _product(fake, rng: random.Random) -> str:
    stem = fake.word().capitalize()
    return rng.choice((stem, f"{stem} {rng.randint(2, 12)}", f"{stem} {rng.choice(('Pro', 'Max', 'X', 'Mini', 'Air'))}"))


def _law(fake, rng: random.Random) -> str:
    noun = fake.word(part_of_speech="noun").capitalize()
    return rng.choice(
        (f"Clean {noun} Act", f"{noun} Protection Act", f"{fake.word(part_of_speech='adjective').capitalize()} {noun} Act")
    )


def _software(fake, rng: random.Random) -> str:
    word = fake.word().capitalize()
    return rng.choice((word, f"{word}{rng.choice(('DB', 'Script', 'Lang', 'Flow'))}", f"{word} {rng.randint(2, 9)}"))


def _person(fake, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.75:
        return f"{fake.first_name()} {fake.last_name()}"  # no "Mr."/"Dr.": CoNLL leaves titles out
    if roll < 0.9:
        return f"{fake.first_name()} {rng.choice('ABCDEFGHJKLMNPRSTW')}. {fake.last_name()}"
    return fake.last_name()


def sentences(count: int, seed: int = 2003) -> list[Sentence]:
    """``count`` sentences with exact (start, end, type) spans."""
    from faker import Faker

    fake, british = Faker("en_US"), Faker("en_GB")  # en_US words are English; en_GB's are lorem ipsum
    fake.seed_instance(seed)
    british.seed_instance(seed + 1)
    rng = random.Random(seed)
    fill = {
        "PER": lambda: _person(fake, rng),
        "ORG": lambda: _company(fake, rng),
        "LONGORG": lambda: _long_org(fake, british, rng),
        "MEDIA": lambda: f"{fake.city()} {rng.choice(MEDIA)}",
        "TEAM": lambda: f"{british.city()} {rng.choice(SPORT)}",
        "LOC": lambda: _location(fake, british, rng),
        "NORP": lambda: rng.choice(DEMONYMS),
        "NORPS": lambda: rng.choice(DEMONYMS_PLURAL),
        "LANGUAGE": lambda: fake.language_name(),
        "EVENT": lambda: _event(fake, british, rng),
        "WORK": lambda: _title(fake, rng),
        "PRODUCT": lambda: _product(fake, rng),
        "LAW": lambda: _law(fake, rng),
        "SOFTWARE": lambda: _software(fake, rng),
    }
    out = []
    for _ in range(count):
        template = rng.choice(TEMPLATES)
        text, entities, cursor, last_long = "", [], 0, None
        for match in SLOT.finditer(template):
            text += template[cursor : match.start()]
            slot = match.group(1)
            if slot in PLAIN:
                text += rng.choice(PLAIN[slot])
            else:
                value = _acronym(last_long, rng) if slot == "ACRONYM" else fill[slot]()
                if slot == "LONGORG":
                    last_long = value
                entities.append((len(text), len(text) + len(value), SLOT_TYPES[slot]))
                text += value
            cursor = match.end()
        rest = template[cursor:]
        text += rest[1:] if text.endswith(".") and rest.startswith(".") else rest  # "Foster Inc." ends the sentence
        out.append(Sentence(text, tuple(entities)))
    return out
