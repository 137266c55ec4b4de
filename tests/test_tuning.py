"""Held-out folds for threshold tuning: every topic example and out-of-scope phrase is held out exactly once."""

from __future__ import annotations

from collections import Counter

from bot.knowledge import Kind, KnowledgeBase
from bot.tuning import held_out_folds


def test_each_example_is_held_out_once_and_missing_from_its_folds_knowledge(shipped_kb: KnowledgeBase) -> None:
    topics = [i for i in shipped_kb.intents if i.kind is Kind.TOPIC]
    seen: Counter[str] = Counter()
    for fold_kb, held in held_out_folds(shipped_kb):
        for question in held:
            seen[question.text] += 1
            owner = fold_kb.intent(next(iter(question.expect))) if question.expect else None
            assert question.text not in (owner.examples if owner else fold_kb.out_of_scope)
        assert fold_kb.intent("crisis") == shipped_kb.intent("crisis")  # safety and conversation stay whole
    everything = [e for i in topics for e in i.examples] + list(shipped_kb.out_of_scope)
    assert seen == Counter(everything)
