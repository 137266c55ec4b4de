"""Routing and replies as a user sees them, on a small knowledge base written for the test."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from bot import matcher as matcher_module
from bot.engine import Engine, Session
from bot.english import common_words
from bot.knowledge import KnowledgeBase
from bot.loader import load_knowledge
from bot.matcher import OUT_OF_SCOPE, Action, Choice, Evidence, Matcher, Thresholds, decide
from bot.safety import compiled
from tests.conftest import REPO, strings_reachable_from
from tests.test_validate import edit

RESIDENCY_TIPS = (
    "Ask current residents about their call schedule.",
    "Nurses moving into residency-style programmes should ask about preceptors.",
    "Keep a log of procedures from day one.",
    "Plan fellowship applications in your second year.",
)


def test_a_clear_question_gets_tips_sources_and_follow_ups(mini_engine: Engine) -> None:
    turn = mini_engine.handle_text("What is residency like?")
    assert turn.route is not None and turn.route.action is Action.ANSWER and turn.intent == "residency"
    text = turn.reply.text
    assert text.startswith("Residency\n\n• Ask current residents about their call schedule.\nSource: Source One")
    assert text.count("• ") == 3
    assert [b.payload for b in turn.reply.buttons] == ["more:residency", "usmle"]


def test_a_question_about_one_tip_gets_it_first_and_more_tips_the_rest_once_each(mini_engine: Engine) -> None:
    first = mini_engine.handle_text("long hours as a resident and procedures")
    assert first.intent == "residency"
    assert first.reply.paragraphs[0].startswith("• Keep a log of procedures from day one.")
    more = mini_engine.handle_button("more:residency", first.session)
    shown = [p.split("\n")[0] for p in (*first.reply.paragraphs, *more.reply.paragraphs)]
    assert sorted(shown) == sorted(f"• {tip}" for tip in RESIDENCY_TIPS)


def test_a_topic_opened_by_its_button_keeps_the_maintainers_order(mini_engine: Engine) -> None:
    asked = mini_engine.handle_text("long hours as a resident and procedures")
    opened = mini_engine.handle_button("residency", asked.session)
    assert opened.reply.paragraphs[0].startswith(f"• {RESIDENCY_TIPS[0]}")


def test_more_tips_shows_the_next_tips_not_the_same_ones(mini_engine: Engine) -> None:
    first = mini_engine.handle_text("what is residency like")
    more = mini_engine.handle_button("more:residency", first.session)
    assert "Plan fellowship applications in your second year." in more.reply.text
    assert "Ask current residents" not in more.reply.text
    assert [b.payload for b in more.reply.buttons] == ["usmle"]


def test_a_topics_note_ends_every_page_of_its_tips(mini_dir: Path) -> None:
    note = "If stress turns into thoughts of harming yourself, call or text 988 now."
    edit(mini_dir / "intents.yaml", "    follow_ups: [usmle]\n", f"    follow_ups: [usmle]\n    note: {note}\n")
    engine = Engine(load_knowledge(mini_dir))
    first = engine.handle_text("what is residency like")
    more = engine.handle_button("more:residency", first.session)
    assert first.reply.paragraphs[-1] == note and first.reply.text.count("• ") == 3
    assert more.reply.paragraphs[-1] == note and more.reply.text.count(note) == 1
    assert note not in engine.handle_text("best question bank for the boards").reply.text


def test_audience_puts_matching_tips_first_and_is_remembered(mini_engine: Engine) -> None:
    turn = mini_engine.handle_text("I'm a nurse, what is residency like?")
    assert turn.session.audience == "nurse"
    assert turn.reply.paragraphs[0].startswith("• Nurses moving into residency-style programmes")
    later = mini_engine.handle_text("how does the match work", turn.session)
    assert later.reply.paragraphs[0].startswith("• Nurses moving")


@pytest.mark.parametrize("text", ["resdency life", "how does the mach work", "RESIDENCY??? 😩", "residencyyyy"])
def test_typos_caps_and_emoji_still_route(mini_engine: Engine, text: str) -> None:
    assert mini_engine.route(text).intent == "residency"


@pytest.mark.parametrize(("text", "intent"), [("umsle prep", "usmle"), ("qabnk advice", "usmle")])
def test_a_short_word_with_two_letters_swapped_is_put_right(mini_engine: Engine, text: str, intent: str) -> None:
    """A swap is one edit, though the similarity cut-off counts it as two and misses it in a short word."""
    assert mini_engine.route(text).intent == intent


def test_a_word_put_right_completes_a_synonym(shipped_engine: Engine) -> None:
    """ "family med" is "family medicine", but only once the typo in "fmaily" is put right."""
    assert shipped_engine.route("fmaily med or peds").intent == "specialization"


def test_synonyms_expand_before_matching(mini_engine: Engine) -> None:
    route = mini_engine.route("ck prep")
    assert route.normalized == "step 2 ck prep"
    assert route.intent == "usmle"


@pytest.mark.parametrize("text", ["how do I become an architect", "my network switch keeps dropping", "zzzz qqq"])
def test_out_of_scope_falls_back_with_the_menu(mini_engine: Engine, text: str) -> None:
    turn = mini_engine.handle_text(text)
    assert turn.route is not None and turn.route.action is Action.FALLBACK and turn.route.intent is None
    assert turn.reply.text.startswith("I can only help with careers in medicine and healthcare.")
    assert [b.payload for b in turn.reply.buttons] == ["residency", "usmle"]


def test_negative_example_keeps_a_look_alike_away(mini_engine: Engine) -> None:
    assert mini_engine.route("residence permit").intent is None


def test_safety_wins_whatever_else_the_message_mentions(mini_engine: Engine) -> None:
    turn = mini_engine.handle_text("I'm a resident preparing for step 2 ck and I want to kill myself")
    assert turn.intent == "crisis"
    assert turn.reply.text == "Please contact emergency services or call or text 988 now."


def test_a_middling_match_asks_which_topic_was_meant(mini_engine: Engine) -> None:
    # Thresholds are tuned on the shipped knowledge; on this tiny one, set the clarify band explicitly.
    engine = Engine(mini_engine.kb, thresholds=Thresholds(answer=0.7, margin=0.1, clarify=0.4))
    turn = engine.handle_text("usmle or residency")
    assert turn.route is not None and turn.route.action is Action.CLARIFY
    assert turn.reply.text == "Did you mean one of these?"
    assert [b.payload for b in turn.reply.buttons] == ["residency", "usmle"]


def test_a_clarification_with_one_topic_asks_about_that_one(mini_engine: Engine) -> None:
    engine = Engine(mini_engine.kb, thresholds=Thresholds(answer=0.7, margin=0.1, clarify=0.4))
    turn = engine.handle_text("boards or match first?")  # only residency is close
    assert turn.route is not None and turn.route.action is Action.CLARIFY
    assert (turn.reply.text, [b.payload for b in turn.reply.buttons]) == ("Did you mean this?", ["residency"])


def test_stale_button_gets_a_note_and_the_menu(mini_engine: Engine) -> None:
    turn = mini_engine.handle_button("removed_topic", Session())
    assert turn.reply.text.startswith("That button is out of date.")
    assert [b.payload for b in turn.reply.buttons] == ["residency", "usmle"]


def test_deep_link_opens_only_topics(mini_engine: Engine) -> None:
    opened = mini_engine.open_topic("usmle")
    assert opened is not None and opened.reply.heading == "USMLE"
    assert mini_engine.open_topic("crisis") is None and mini_engine.open_topic("nope") is None


@pytest.mark.parametrize(
    "text", ["", "   \n\t ", "x" * 10_000, "🙂🙂🙂", "مرحبا، أريد أن أصبح طبيبا", "\x00\x1b[31m\x07", "\ud800"]
)
def test_odd_messages_get_a_sensible_reply(mini_engine: Engine, text: str) -> None:
    turn = mini_engine.handle_text(text)
    assert turn.reply.text and len(turn.reply.text) <= 4096
    assert turn.reply.buttons


def test_importing_the_core_does_not_import_telegram() -> None:
    code = (
        "import sys, bot.engine, bot.loader, bot.cli, bot.console, bot.evaluate\n"
        "assert 'telegram' not in sys.modules, 'telegram imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


@pytest.mark.parametrize("text", ["I want to kill mysefl", "i want to end my lyfe", "thinking I'll end my lfie"])
def test_a_misspelt_crisis_message_is_still_caught(mini_engine: Engine, text: str) -> None:
    assert mini_engine.route(text).intent == "crisis"


@pytest.mark.parametrize("text", ["i want to end my wife's commute", "i want to end my lice problem before rotations"])
def test_real_words_are_not_respelt_into_a_crisis(mini_engine: Engine, text: str) -> None:
    """ "wife" and "lice" are one edit from "life", but they are English words, not typos."""
    assert mini_engine.route(text).intent != "crisis"


@pytest.mark.parametrize(
    "text",
    [
        "how to cope with the suicide of a patzient",
        "what meds do er nursse give most often",
        "i have asthma, what skecialty is easy on the lungs",
        "how to cope with the suicide of a pateint",  # "pateints", a piece a pattern spells, is one edit away too
        "i took too many sifts this month, how to say no",  # "gifts" too, but "shifts" is the likelier
        "my dad is confused abot why i want to do nursing",  # "bot" too, but "about" is the likelier
    ],
)
def test_a_misspelt_guard_word_still_keeps_a_career_question_out(shipped_engine: Engine, text: str) -> None:
    """Spelt right, a guard word ("patient", "nurses", "specialty", "shifts", "about") keeps each out of the
    safety replies: the likeliest reading with the misspelt word put right decides."""
    assert shipped_engine.route(text).intent not in ("crisis", "medical_advice")


def test_a_guard_word_misspelt_as_one_example_misspells_it_still_guards(mini_dir: Path) -> None:
    """Examples keep their writers' typos. "pateint" in one of them must not make it a word never put right:
    a message that misspells the guard word "patient" the same way would then get the crisis reply."""
    intents = mini_dir / "intents.yaml"
    edit(intents, r"patterns: ['\bkill myself\b'", r"patterns: ['^(?!.*\bpatients?\b).*\bsuicide\b', '\bkill myself\b'")
    examples = "      - long hours as a resident\n"
    typo = "      - explaining a pateint s discharge on my first night as a resident\n"
    edit(intents, examples, examples + "      - my first patient as a resident\n      - patient handover tips\n" + typo)
    engine = Engine(load_knowledge(mini_dir))
    assert engine.route("i keep thinking about suicide").intent == "crisis"
    for patient in ("patient", "pateint"):
        assert engine.route(f"a resident coping with the suicide of a {patient}").intent != "crisis"


@pytest.mark.parametrize("text", ["i dont wnna live like this", "im gonan jump tonight"])
def test_a_misspelt_slang_word_is_put_right_to_the_slang_and_read_as_its_synonym(
    shipped_engine: Engine, text: str
) -> None:
    """ "wnna" is one edit from "wanna", a variant of "want to" in the synonyms."""
    assert shipped_engine.route(text).intent == "crisis"


def test_a_crisis_word_a_pattern_spells_in_part_is_not_put_right_out_of_the_match(shipped_engine: Engine) -> None:
    assert shipped_engine.route("lowkey want to unalive").intent == "crisis"  # "unalive" is one edit from "unaliv"


@pytest.mark.parametrize(
    ("healthcare", "choice", "answered"),
    [
        (True, Choice("residency", 0.9, 0.6), "residency"),  # the classifier's clear choice, scored first too
        (True, Choice("usmle", 0.9, 0.6), "usmle"),  # its clear choice, though another topic is scored first
        (False, Choice("usmle", 0.9, 0.6), None),  # no healthcare word, and the word scores put another first
        (False, Choice("residency", 0.9, 0.6), "residency"),  # no healthcare word, but the word scores agree
        (False, Choice("residency", 0.75, 0.6), None),  # they agree, but the classifier is not sure enough
        (True, Choice("residency", 0.6, 0.1), None),  # the classifier is unsure
        (True, Choice(OUT_OF_SCOPE, 0.9, 0.6), None),  # it reads the message as out of scope
    ],
)
def test_new_wording_below_the_answer_cut_off_is_answered_when_the_classifier_is_sure(
    healthcare: bool, choice: Choice, answered: str | None
) -> None:
    """Wording no example is close to scores low on similarity even when its topic is plain."""
    t = Thresholds(answer=0.62, margin=0.15, clarify=0.61, agreed_answer=0.0, agreed_probability=0.75, agreed_lead=0.35)
    evidence = Evidence([("residency", 0.57), ("usmle", 0.3)], healthcare, choice)
    route = decide(evidence, "radiographer here, how do rotations work after ten years away", t)
    assert route.intent == answered and route.action is (Action.ANSWER if answered else Action.FALLBACK)


def test_a_sure_choice_the_word_scores_rank_first_is_answered_only_if_they_score_it_high_enough() -> None:
    """ "Colleagues say 'touch base' and I don't catch it, how do I improve my workplace communication" names no
    healthcare word and its words score soft skills first, but not far enough ahead of the rest."""
    choice = Choice("soft_skills", 0.95, 0.9)
    close = [("soft_skills", 0.59), ("leadership", 0.5)]
    assert decide(Evidence(close, False, choice), "", Thresholds()).intent == "soft_skills"
    low = [("soft_skills", 0.5), ("leadership", 0.45)]  # below confirmed_answer
    assert decide(Evidence(low, False, choice), "", Thresholds()).action is Action.FALLBACK


def test_a_message_naming_no_healthcare_word_is_not_clarified() -> None:
    """ "burnout tires car meet" is near wellbeing and leadership but may be another field's: it falls back,
    its nearest topics first; with a healthcare word the bot asks which one was meant."""
    ranked = [("wellbeing", 0.66), ("leadership", 0.62)]
    named = decide(Evidence(ranked, True), "", Thresholds())
    assert named.action is Action.CLARIFY and [c.intent for c in named.candidates] == ["wellbeing", "leadership"]
    unnamed = decide(Evidence(ranked, False, unnamed_domain=True), "", Thresholds())
    assert unnamed.action is Action.FALLBACK and [c.intent for c in unnamed.candidates] == ["wellbeing", "leadership"]
    clear = [("wellbeing", 0.8), ("leadership", 0.4)]
    assert decide(Evidence(clear, False, unnamed_domain=True), "", Thresholds()).intent == "wellbeing"


def test_the_classifiers_sure_choice_outweighs_an_out_of_scope_score_only_in_a_healthcare_message() -> None:
    """ "Is it possible to do research remotely? I live rural" scores out of scope first on its words."""
    ranked = [(OUT_OF_SCOPE, 0.45), ("research", 0.4)]
    choice = Choice("research", 0.95, 0.9)
    assert decide(Evidence(ranked, True, choice), "", Thresholds()).intent == "research"
    assert decide(Evidence(ranked, False, choice), "", Thresholds()).action is Action.FALLBACK


@pytest.mark.parametrize(
    ("choice", "action"),
    [
        (Choice("crisis", 0.7, 0.5), Action.ANSWER),  # the classifier's clear first choice is a safety intent
        (Choice("crisis", 0.4, 0.2), Action.FALLBACK),  # below safety_choice: the usual cut-offs decide
        (Choice("residency", 0.9, 0.8), Action.FALLBACK),  # a topic the classifier likes does not lift it
    ],
)
def test_a_safety_intent_the_classifier_picks_first_is_answered_whatever_the_word_scores(
    choice: Choice, action: Action
) -> None:
    """Indirect crisis wording shares few words with any phrase, but the classifier has seen many like it."""
    evidence = Evidence([(OUT_OF_SCOPE, 0.5), ("residency", 0.3)], False, choice)
    route = decide(evidence, "my plan is to finish this rotation and then go", Thresholds(), frozenset({"crisis"}))
    assert route.action is action and route.intent == ("crisis" if action is Action.ANSWER else None)


def test_a_safety_answer_offers_only_the_one_topic_it_also_reads_as() -> None:
    """As with a pattern's answer: the first topic above out of scope, if it scores OFFER_AT_LEAST."""
    safety_ids = frozenset({"medical_advice", "crisis"})
    offers = {"medical_advice": frozenset({"wellbeing", "residency", "usmle"})}  # crisis offers none
    ranked = [("wellbeing", 0.5), ("residency", 0.48), (OUT_OF_SCOPE, 0.4), ("usmle", 0.3)]
    evidence = Evidence(ranked, True, Choice("medical_advice", 0.9, 0.8))
    route = decide(evidence, "my back hurts after long shifts", Thresholds(), safety_ids, offers)
    assert route.intent == "medical_advice" and [c.intent for c in route.candidates] == ["medical_advice", "wellbeing"]
    crisis = decide(Evidence(ranked, True, Choice("crisis", 0.9, 0.8)), "", Thresholds(), safety_ids, offers)
    assert [c.intent for c in crisis.candidates] == ["crisis"]


def test_a_message_that_is_an_intents_own_phrase_is_its_however_near_a_safety_intent(shipped_kb: KnowledgeBase) -> None:
    """On word scores alone (a classifier `train` has not refitted yet), "goodbye" was near enough to crisis
    examples such as "i wrote goodbye notes to my family" to get the crisis reply."""
    ranked = [("goodbye", 1.0), ("crisis", 0.802)]
    route = decide(Evidence(ranked, False), "goodbye", Thresholds(), frozenset({"crisis"}))
    assert route.action is Action.ANSWER and route.intent == "goodbye"
    untrained = Engine(dataclasses.replace(shipped_kb, classifier=None))
    assert [untrained.route(t).intent for t in ("goodbye", "bye", "thanks")] == ["goodbye", "goodbye", "thanks"]


def test_a_clarification_that_could_offer_only_safety_intents_falls_back_with_them_first() -> None:
    """ "did you mean: Health questions?" alone would misread a question no pattern caught."""
    evidence = Evidence([("medical_advice", 0.66), ("crisis", 0.62), ("residency", 0.3)], False, None)
    route = decide(evidence, "what is the meaning of all this", Thresholds(), frozenset({"crisis", "medical_advice"}))
    assert route.action is Action.FALLBACK
    assert [c.intent for c in route.candidates][:2] == ["medical_advice", "crisis"]


def test_an_emoji_the_knowledge_names_is_read_as_its_word(mini_engine: Engine) -> None:
    assert mini_engine.route("👋🏼").intent == "greeting"
    assert mini_engine.route("🙃").action is Action.FALLBACK  # an emoji it does not name says nothing


def test_after_warm_up_no_message_waits_for_a_compile_the_word_list_or_an_index(
    shipped_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled.cache_clear()
    common_words.cache_clear()
    indexed: list[int] = []
    build_index = matcher_module._Wording.of
    monkeypatch.setattr(matcher_module._Wording, "of", lambda phrases: indexed.append(1) or build_index(phrases))
    matcher = Matcher(shipped_kb)
    assert indexed == []  # the fuzzy pass's indexes are made when first needed, or by warm_up
    matcher.warm_up()
    compiles, loads, indexes = compiled.cache_info().misses, common_words.cache_info().misses, len(indexed)
    assert compiles >= len({p for i in shipped_kb.intents for p in i.patterns}) and loads == 1
    assert indexes == len(shipped_kb.intents) + 1  # every intent's and the out-of-scope phrases'
    for text in ("i wnat to die", "my chest hurst", "how do i find a mentr", "qwertyuiop asdfgh", "residency hours"):
        matcher.route(text)
    assert (compiled.cache_info().misses, common_words.cache_info().misses, len(indexed)) == (compiles, loads, indexes)


def test_a_fallback_puts_the_nearest_topic_first(mini_engine: Engine) -> None:
    near = mini_engine.handle_text("prepare for boards abroad")  # usmle scores 0.585: below an answer
    assert near.route is not None and near.route.action is Action.FALLBACK
    assert [b.payload for b in near.reply.buttons] == ["usmle", "residency"]
    assert near.reply.paragraphs[0] == "If this is about a career in medicine, the nearest topics come first."
    far = mini_engine.handle_text("step 2 nerves")  # usmle scores 0.495: too far to lead the menu
    assert [b.payload for b in far.reply.buttons] == ["residency", "usmle"]
    assert far.reply.paragraphs[0] == "I can only help with careers in medicine and healthcare."


def test_the_engine_keeps_nothing_of_what_users_wrote(mini_engine: Engine) -> None:
    """Sessions are the caller's to store (without message text); the engine itself holds on to no message,
    only single words in its spelling cache ("privatest", put right or not, with no user to it)."""
    for text in ("my privatest worry: is residency hard", "privatest plan for the usmel", "privatest hello"):
        mini_engine.handle_text(text)
    held = [text for text in strings_reachable_from(mini_engine) if "privatest" in text]
    assert held == ["privatest"]
