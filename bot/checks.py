"""Checks of meaning across all knowledge files, run once every file has been read without errors.

Shape is checked while reading (`bot.loader`); here: ids that must exist, phrases claimed by two intents,
and Telegram's limits on every button and every reply the knowledge can produce.
"""

from __future__ import annotations

from bot.knowledge import AUDIENCES, Kind, KnowledgeBase
from bot.replies import (
    MAX_REPLY_CHARS,
    Button,
    Reply,
    about_reply,
    answer_reply,
    clarify_reply,
    fallback_reply,
    topic_reply,
    welcome_reply,
)
from bot.yaml_source import Problems, Where

MAX_CALLBACK_BYTES = 64
MAX_TITLE_CHARS = 32
MAX_TIP_CHARS = 300

Places = dict[tuple[str, str], Where]
ExamplePlaces = dict[tuple[str, str], list[Where]]  # (intent id or "" for out-of-scope, text) -> each place


def check_knowledge(kb: KnowledgeBase, where: Places, example_where: ExamplePlaces, problems: Problems) -> None:
    _check_references(kb, where, problems)
    _check_examples(kb, example_where, problems)
    _check_limits(kb, where, problems)


def _check_references(kb: KnowledgeBase, where: Places, problems: Problems) -> None:
    for intent in kb.intents:
        for target in intent.follow_ups:
            place = where["follow_up", f"{intent.id}->{target}"]
            if target == intent.id:
                problems.add(place, f"`{intent.id}` lists itself as a follow-up", "remove it from `follow_ups`")
            elif kb.intent(target) is None:
                problems.add(place, f"follow-up `{target}` is not an intent id", "fix the id or add the intent")
        for index, tip in enumerate(intent.tips):
            place = where["tip", f"{intent.id}#{index}"]
            source = kb.source(tip.source)
            if source is None:
                known = ", ".join(s.id for s in kb.sources) or "none yet"
                problems.add(place, f"unknown source `{tip.source}`", f"use a source id ({known})")
            elif tip.section not in source.sections:
                problems.add(
                    place,
                    f"section `{tip.section}` is not a section of source `{source.id}`",
                    f"use one of: {'; '.join(source.sections)}",
                )


def _check_examples(kb: KnowledgeBase, example_where: ExamplePlaces, problems: Problems) -> None:
    owner_of: dict[str, tuple[str, Where]] = {}
    phrases = [(i.id, text) for i in kb.intents for text in i.examples]
    phrases += [("", text) for text in kb.out_of_scope]
    places = {key: iter(found) for key, found in example_where.items()}  # a repeated phrase: its next place
    for intent_id, text in phrases:
        place = next(places[intent_id, text])
        key = kb.prepared[text]  # the loader prepared every phrase
        if key in owner_of:
            other, first = owner_of[key]
            label = f"`{other}`" if other else "`out_of_scope`"
            if other == intent_id:
                problems.add(place, f"example `{text}` is listed twice (first at {first})", "remove one")
            else:
                problems.add(
                    place,
                    f"example `{text}` is also listed under {label} (at {first})",
                    "keep the phrase under one intent only",
                )
            continue
        owner_of[key] = (intent_id, place)


def _check_limits(kb: KnowledgeBase, where: Places, problems: Problems) -> None:
    for intent in kb.intents:
        place = where["intent", intent.id]
        payload = Button(intent.title, intent.id, more=True).payload
        if len(payload.encode()) > MAX_CALLBACK_BYTES:
            problems.add(place, f"intent id `{intent.id}` is too long for a button", "shorten it (≤ 40 bytes)")
        if len(intent.title) > MAX_TITLE_CHARS:
            problems.add(
                place, f"title `{intent.title}` is over {MAX_TITLE_CHARS} characters", "shorten the button label"
            )
        for index, tip in enumerate(intent.tips):
            if len(tip.text) > MAX_TIP_CHARS:
                problems.add(
                    where["tip", f"{intent.id}#{index}"],
                    f"tip is {len(tip.text)} characters, over {MAX_TIP_CHARS}",
                    "shorten it or split it into two tips",
                )
        for reply in _replies_of(kb, intent.id):
            if len(reply.text) > MAX_REPLY_CHARS:
                problems.add(
                    place,
                    f"a reply of `{intent.id}` is {len(reply.text)} characters, over Telegram's {MAX_REPLY_CHARS}",
                    "shorten its tips or answer",
                )
                break
    fixed = [welcome_reply(kb), fallback_reply(kb), about_reply(kb)]
    longest = sorted(kb.topics, key=lambda i: len(i.title), reverse=True)[:3]
    fixed.append(clarify_reply(kb, tuple(i.id for i in longest)))
    for reply in fixed:
        if len(reply.text) > MAX_REPLY_CHARS:
            problems.add(Where("texts", 0), f"a fixed reply is {len(reply.text)} characters", "shorten the texts")


def _replies_of(kb: KnowledgeBase, intent_id: str) -> list[Reply]:
    intent = kb.intent(intent_id)
    if intent is None:
        return []
    if intent.kind is not Kind.TOPIC:
        return [answer_reply(kb, intent)]
    replies = []
    for audience in (None, *AUDIENCES):
        start = 0
        while start < len(intent.tips):
            reply, start = topic_reply(kb, intent, audience=audience, start=start, count=4)
            replies.append(reply)
    return replies
