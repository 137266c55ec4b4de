"""The shipped knowledge as the content issue promises it: coverage, counts, follow-up map, safety texts."""

from __future__ import annotations

import gzip
from collections import deque

import pytest
import yaml

from bot.engine import Engine
from bot.knowledge import Kind, KnowledgeBase
from bot.loader import PREPARED_FILE, loads_prepared
from bot.matcher import Action
from bot.normalize import Preparer, prepared_key
from tests.conftest import REPO

REQUIRED_SECTIONS = {
    "000_999d3b0f9ffa67c9.txt": [
        "Education is the Foundation", "Gain Hands-On Experience", "Continuous Learning", "Develop Soft Skills",
        "Network and Build Professional Relationships", "Commit to Ethics and Integrity",
        "Adaptability and Resilience",
    ],
    "001_7f8ef5f86b8a1603.txt": [
        "Understanding the Foundations of Career Empowerment", "Pursuing Continuous Education and Skill Development",
        "Building a Strong Professional Network", "Embracing Technology in Modern Medicine",
        "Prioritizing Work-Life Balance and Well-Being", "Developing Leadership Skills",
        "Exploring Non-Clinical Career Opportunities", "Seeking Mentorship and Becoming a Mentor",
        "Setting Clear Goals and Measuring Progress",
    ],
    "002_ea278e43e111df58.txt": [
        "Understand Your Career Goals", "Invest in Education and Training", "Gain Practical Experience",
        "Develop Soft Skills Alongside Technical Skills", "Network and Seek Mentorship",
        "Stay Current with Industry Trends",
    ],
    "003_dfc45e629e53d515.txt": [
        "Advanced Degree Programs", "Residency Training", "USMLE Step 2", "Career Development Opportunities",
        "Importance of Mentorship and Networking",
    ],
    "004_9d64ea70c7319f79.txt": [
        "The Essentials", "Getting The Right Education", "Finding Experience", "Which Specialization?",
        "Beyond Clinical Practice",
    ],
}  # fmt: skip
TOPICS = (
    "career_goals education advanced_degrees hands_on_experience residency usmle continuous_learning soft_skills "
    "networking mentorship ethics wellbeing leadership technology non_clinical_careers research specialization "
    "goal_setting"
).split()


def test_every_article_section_has_a_tip(shipped_kb: KnowledgeBase) -> None:
    covered = {
        (shipped_kb.source(t.source).file, t.section)  # type: ignore[union-attr]
        for i in shipped_kb.intents
        for t in i.tips
    }
    missing = [(f, s) for f, sections in REQUIRED_SECTIONS.items() for s in sections if (f, s) not in covered]
    assert missing == []


def test_required_intents_exist_with_their_kinds(shipped_kb: KnowledgeBase) -> None:
    kinds = {i.id: i.kind for i in shipped_kb.intents}
    assert all(kinds.get(t) is Kind.TOPIC for t in TOPICS)
    assert all(kinds.get(c) is Kind.CONVERSATION for c in ("greeting", "thanks", "goodbye", "help"))
    assert kinds.get("medical_advice") is Kind.SAFETY and kinds.get("crisis") is Kind.SAFETY


@pytest.mark.parametrize("topic", TOPICS)
def test_each_topic_has_enough_tips_examples_and_follow_ups(shipped_kb: KnowledgeBase, topic: str) -> None:
    intent = shipped_kb.intent(topic)
    assert intent is not None
    assert 3 <= len(intent.tips) <= 6
    assert len(intent.examples) >= 15
    assert intent.keywords
    assert 2 <= len(intent.follow_ups) <= 4 and topic not in intent.follow_ups


def test_every_topic_is_within_two_taps_of_the_menu(shipped_kb: KnowledgeBase) -> None:
    # The menu shows every topic, so one tap reaches each; the follow-up map must also be connected,
    # so a user who came in through a question can walk to any topic.
    start = TOPICS[0]
    seen, queue = {start}, deque([start])
    while queue:
        for nxt in shipped_kb.intent(queue.popleft()).follow_ups:  # type: ignore[union-attr]
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    assert set(TOPICS) <= seen


def test_out_of_date_step_2_cs_is_corrected(shipped_kb: KnowledgeBase) -> None:
    usmle = " ".join(t.text for t in shipped_kb.intent("usmle").tips)  # type: ignore[union-attr]
    assert "2021" in usmle and "CK" in usmle


def test_crisis_reply_gives_crisis_lines(shipped_kb: KnowledgeBase) -> None:
    answer = shipped_kb.intent("crisis").answer  # type: ignore[union-attr]
    assert "988" in answer and "116 123" in answer


def test_every_page_of_wellbeing_tips_ends_with_the_crisis_lines(shipped_engine: Engine) -> None:
    """Despair told in burnout's words may reach the wellbeing tips rather than the crisis reply."""
    first = shipped_engine.handle_text("i dread every shift and i'm running on empty")
    assert first.intent == "wellbeing"
    pages = [first.reply, shipped_engine.handle_button("more:wellbeing", first.session).reply]
    assert all("988" in p.paragraphs[-1] and "116 123" in p.paragraphs[-1] for p in pages)


def test_the_stored_prepared_phrases_are_complete_and_current(shipped_kb: KnowledgeBase) -> None:
    """Start-up reads back what `train` prepared; a change to the normaliser must raise PREPARED_FORMAT."""
    key, phrases = loads_prepared(gzip.decompress((REPO / "knowledge" / PREPARED_FILE).read_bytes()))
    assert key == prepared_key(shipped_kb.synonyms, shipped_kb.emoji), "store them again: `python -m bot train`"
    texts = shipped_kb.phrases
    assert [t for t in texts if t not in phrases] == [], "store them again: `python -m bot train`"
    prepare = Preparer(shipped_kb.synonyms, shipped_kb.emoji)
    assert [t for t in texts if phrases[t] != prepare(t)] == [], "raise PREPARED_FORMAT in bot/normalize.py"


def test_every_example_routes_to_its_own_intent(shipped_engine: Engine) -> None:
    """A maintainer who adds a phrase under an intent can rely on that exact phrase being answered by it."""
    kb = shipped_engine.kb
    astray = [
        (intent.id, example, route.action, route.intent)
        for intent in kb.intents
        for example in intent.examples
        if (route := shipped_engine.route(example)).intent != intent.id or route.action is not Action.ANSWER
    ]
    assert astray == []
    assert all(shipped_engine.route(text).action is Action.FALLBACK for text in kb.out_of_scope)


@pytest.mark.parametrize("text", ["what can you do", "how does this work", "What can you do?!"])
def test_questions_about_the_bot_itself_get_help(shipped_engine: Engine, text: str) -> None:
    route = shipped_engine.route(text)
    assert (route.action, route.intent) == (Action.ANSWER, "help")


def test_a_health_question_that_is_also_a_career_one_gets_a_button_to_the_topic(shipped_engine: Engine) -> None:
    turn = shipped_engine.handle_text("my back hurts after long shifts, any ergonomic tips for nurses")
    assert turn.intent == "medical_advice"
    assert turn.reply.text.startswith("I'm a careers bot, not a doctor")
    assert [b.payload for b in turn.reply.buttons] == ["wellbeing"]
    assert shipped_engine.handle_text("I have a fever and a sore throat").reply.buttons == ()
    assert shipped_engine.handle_text("i want to kill myself, residency is hell").reply.buttons == ()


def test_a_word_from_another_field_turns_a_topic_question_away_unless_healthcare_is_named(
    shipped_engine: Engine,
) -> None:
    assert shipped_engine.route("smart goals for my sales team").action is Action.FALLBACK
    assert shipped_engine.route("how to set smart goals").intent == "goal_setting"
    assert shipped_engine.route("career change from sales into nursing").action is not Action.FALLBACK
    # a domain phrase counts only whole ("step 1"), and a domain stem only in forms the topics use
    assert shipped_engine.route("step by step plan to open a bakery").action is Action.FALLBACK
    assert shipped_engine.route("residence permit renewal tips").action is Action.FALLBACK


def test_a_fallback_near_a_safety_intent_offers_it_first(shipped_engine: Engine) -> None:
    for text in ("i feel hopeless", "everything feels hopeless"):
        turn = shipped_engine.handle_text(text)
        assert turn.route is not None and turn.route.action is Action.FALLBACK
        assert turn.reply.text.startswith("I'm not sure I understood. If this is about your own health")
        assert turn.reply.buttons[0].payload == "crisis" and turn.reply.buttons[0].label == "Urgent support"
    plain = shipped_engine.handle_text("weather tomorrow").reply
    assert plain.text.startswith("Sorry, I didn't quite get that") and plain.buttons[0].payload == "career_goals"


@pytest.mark.parametrize(
    ("text", "intent", "reply_has"),
    [
        ("i have been giving my books and scrubs away because i will not need them soon", "crisis", "988"),
        ("lately the only thing that calms me on nights is thinking about not existing", "crisis", "988"),
        ("been looking at the river on my walk home and thinking how easy it would be", "crisis", "116 123"),
        ("the baby has been pulling at her ear and crying all night, urgent care or wait", "medical_advice", "doctor"),
    ],
)
def test_indirect_safety_wording_that_no_pattern_catches_still_gets_the_safety_reply(
    shipped_engine: Engine, text: str, intent: str, reply_has: str
) -> None:
    matcher = shipped_engine.matcher
    assert matcher.safety_match(matcher.prepare(text)) is None  # the classifier's first choice decides
    turn = shipped_engine.handle_text(text)
    assert turn.intent == intent and reply_has in turn.reply.text


@pytest.mark.parametrize("text", ["kill it at my interview tips", "i want to die of boredom in these lectures"])
def test_a_figure_of_speech_falls_back_without_urgent_support_first(shipped_engine: Engine, text: str) -> None:
    """The crisis intent's negative examples mark such figures of speech, for the patterns' guards and the
    classifier alike (it fits them as out of scope)."""
    turn = shipped_engine.handle_text(text)
    assert turn.route is not None and turn.route.action is Action.FALLBACK
    assert "988" not in turn.reply.text and turn.reply.buttons[0].payload != "crisis"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("can i give my dog ibuprofen for his limp", None),
        ("one of my cows has mastitis, which antibiotic works best", None),
        ("white spots on my goldfish, what medicine", None),
        ("my dog bit me and my hand is swollen, do i need antibiotics", "medical_advice"),
        ("the chicken i ate was undercooked and i've been vomiting all night, what should i take", "medical_advice"),
        ("my mom has cancer, should I defer med school a year to care for her?", None),
        ("my mom has a fever of 39, should i take her to the ER", "medical_advice"),
    ],
)
def test_an_animals_health_or_a_relatives_illness_beside_a_career_choice_is_not_a_health_question(
    shipped_engine: Engine, text: str, intent: str | None
) -> None:
    """medical_advice's `unless` takes back a match about an animal or a plant; a relative's illness asked about
    beside the user's own career ("defer med school") is a career question."""
    matcher = shipped_engine.matcher
    assert matcher.safety_match(matcher.prepare(text)) == intent


def test_unless_takes_back_the_classifiers_choice_too(shipped_engine: Engine) -> None:
    """The classifier reads an animal's dose question as a health question; `unless` takes that back as well."""
    matcher, text = shipped_engine.matcher, "what dose of aspirin for my horse with a fever"
    assert shipped_engine.kb.classifier is not None
    probabilities = shipped_engine.kb.classifier.probabilities(matcher.prepare(text))
    assert max(probabilities, key=probabilities.__getitem__) == "medical_advice"  # what is taken back
    turn = shipped_engine.handle_text(text)
    assert turn.intent not in ("medical_advice", "crisis") and matcher.safety_match(matcher.prepare(text)) is None


def test_unless_takes_back_a_health_reading_by_likeness_too(shipped_engine: Engine) -> None:
    """Whether a condition bars a career reads much like the health examples ("i have adhd ..."), close enough
    for the health reply by likeness alone; `unless` ("can i still be a surgeon") takes that back too."""
    text = "I have ADHD, can I still be a surgeon?"
    matcher = shipped_engine.matcher
    assert matcher.safety_match(matcher.prepare(text)) is None
    assert shipped_engine.handle_text(text).intent not in ("medical_advice", "crisis")
    assert "medical_advice" not in dict(matcher.ranked(matcher.prepare(text)))


def test_health_reply_also_gives_crisis_lines_as_a_safety_net(shipped_kb: KnowledgeBase) -> None:
    """A crisis message caught only by a health pattern must still reach the crisis lines."""
    answer = shipped_kb.intent("medical_advice").answer  # type: ignore[union-attr]
    assert "emergency number" in answer and "988" in answer and "116 123" in answer


def test_safety_patterns_catch_their_phrasings_and_no_career_question(shipped_engine: Engine) -> None:
    phrasings = yaml.safe_load((REPO / "tests" / "data" / "safety_phrasings.yaml").read_text(encoding="utf-8"))
    matcher = shipped_engine.matcher
    caught = {text: matcher.safety_match(matcher.prepare(text)) for texts in phrasings.values() for text in texts}
    missed = [
        (t, caught[t]) for intent in ("crisis", "medical_advice") for t in phrasings[intent] if caught[t] != intent
    ]
    assert missed == [], missed
    alarms = [(t, caught[t]) for t in phrasings["career"] if caught[t] is not None]
    assert alarms == [], alarms


@pytest.mark.parametrize(
    "text", ["forget me", "please delete my data", "do you keep my messages?", "is this chat private"]
)
def test_asking_what_the_bot_keeps_says_what_and_how_to_delete_it(shipped_engine: Engine, text: str) -> None:
    turn = shipped_engine.handle_text(text)
    assert turn.intent == "privacy" and "/forget" in turn.reply.text and "never store the text" in turn.reply.text


@pytest.mark.parametrize("text", ["what counts as a hipaa breach", "patient confidentiality rules for new nurses"])
def test_patients_privacy_stays_an_ethics_question(shipped_engine: Engine, text: str) -> None:
    assert shipped_engine.handle_text(text).intent == "ethics"


@pytest.mark.parametrize(
    ("text", "first_tip"),
    [
        ("Are there scholarships for med school tuition?", "Before paying fees, ask HR about tuition"),
        ("ADN or BSN, which nursing program should I go for?", "For nursing, pick an accredited programme"),
        ("MBA for physicians, worth it?", "Working physicians: a part-time or executive MPH"),
        ("next gen nclex study plan?", "Nurses sit the NCLEX-RN"),
        ("how do I prepare for USMLE Step 2 CK", "Prepare for any licensing exam"),
        ("what is residency like", "In the US you apply through ERAS"),  # nothing specific: the maintainers' first
    ],
)
def test_an_answer_leads_with_the_tip_the_question_names(shipped_engine: Engine, text: str, first_tip: str) -> None:
    assert shipped_engine.handle_text(text).reply.paragraphs[0].startswith(f"• {first_tip}")
