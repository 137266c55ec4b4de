"""The classifier a maintainer fits with `python -m bot train`: what it learns, how it is stored, and what
`validate` and the matcher do when it no longer fits the knowledge."""

from __future__ import annotations

import gzip
import logging
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.classifier import FILE_NAME, dumps, extract, loads
from bot.config import load_config
from bot.knowledge import KnowledgeBase
from bot.loader import KnowledgeError, load_knowledge
from bot.matcher import Matcher
from bot.telegram_runtime import build_engine
from bot.training import train, write
from tests.conftest import REPO
from tests.test_validate import edit

PAIRS = [
    ("usmle", "how to prepare for the step 2 ck exam"),
    ("usmle", "license exam prep and question banks"),
    ("usmle", "when to take the boards"),
    ("wellbeing", "burnout after night shifts"),
    ("wellbeing", "so stressed and tired all the time"),
    ("wellbeing", "how do i keep a work life balance"),
]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=REPO)


def test_word_pieces_carry_a_word_it_has_never_seen_to_the_right_intent() -> None:
    model = train(PAIRS)
    for unseen in ("licensure", "exams", "burnt out", "exhausted and stressed"):
        probabilities = model.probabilities(unseen)
        expected = "wellbeing" if unseen in ("burnt out", "exhausted and stressed") else "usmle"
        assert max(probabilities, key=probabilities.__getitem__) == expected, (unseen, probabilities)
    assert sum(model.probabilities("licensure").values()) == pytest.approx(1.0)


def test_word_vectors_carry_a_word_that_shares_no_piece_with_any_phrase() -> None:
    model = train(PAIRS)
    without_vectors = replace(model, dense=(0.0,) * len(model.dense))
    for unseen in ("fatigued", "weary", "sleepy"):
        leaning = model.probabilities(unseen)["wellbeing"]
        blind = without_vectors.probabilities(unseen)["wellbeing"]  # about the share of wellbeing phrases
        assert leaning > 0.6 and leaning - blind > 0.08, (unseen, leaning, blind)


def test_features_are_stems_stem_pairs_and_padded_four_letter_pieces() -> None:
    terms, pieces = extract("passing exams")
    assert terms == ["w pass", "w exam", "w pass exam"]
    assert pieces[:2] == ["c pas", "cpass"] and "cams " in pieces
    assert extract("ok")[1] == ["c ok "]  # a short word is one piece


def test_a_feature_left_with_no_weight_is_not_stored(shipped_kb: KnowledgeBase) -> None:
    """Fitting drops weights of KEEP_ABOVE or less; a feature with none left would only take memory (the
    shipped model had 16,339 of 88,538), so it is not kept and a message's copy of it counts as unknown."""
    model = shipped_kb.classifier
    assert model is not None
    assert all(model.starts[n] < model.starts[n + 1] for n in range(len(model.features)))
    assert len(model.features) == len(model.idf) == len(model.starts) - 1


def test_the_stored_model_gives_the_same_answers() -> None:
    model = train(PAIRS)
    again = loads(dumps(model))
    for text in ("licensure", "night shifts", "nothing known here"):
        for label, p in model.probabilities(text).items():
            assert again.probabilities(text)[label] == pytest.approx(p, abs=1e-3)


def test_packed_scoring_equals_the_plain_sum_of_weights(shipped_kb: KnowledgeBase) -> None:
    model = shipped_kb.classifier
    assert model is not None
    for text in ("how do i prepare for step 2 ck", "burnt out nurse " * 40, "zzz", "licensure exams in texas"):
        logits = list(model.intercepts)
        for feature, value in model.vector(text):
            for label, weight in model.row(feature):
                logits[label] += value * weight
        direction = model.vectors.direction(text.split()) or []
        for label in range(len(logits)):
            weights = model.dense[label * len(direction) : (label + 1) * len(direction)]
            logits[label] += sum(d * w for d, w in zip(direction, weights, strict=True))
        exps = [math.exp(logit - max(logits)) for logit in logits]
        expected = {label: e / sum(exps) for label, e in zip(model.labels, exps, strict=True)}
        assert model.probabilities(text) == pytest.approx(expected, abs=1e-4)


def test_a_damaged_model_file_names_itself_and_the_fix(mini_dir: Path) -> None:
    (mini_dir / FILE_NAME).write_bytes(gzip.compress(b'{"format": 1, "labels": ["a"]}'))
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(mini_dir)
    [problem] = caught.value.problems
    assert problem.startswith(f"{mini_dir}/{FILE_NAME}: cannot read it (not a classifier file")
    assert problem.endswith("fit it again: `python -m bot train`")
    (mini_dir / FILE_NAME).write_bytes(b"not gzip")
    with pytest.raises(KnowledgeError, match="fit it again"):
        load_knowledge(mini_dir)


def test_inconsistent_lists_are_refused() -> None:
    model = train(PAIRS)
    broken = dumps(replace(model, label_at=(*model.label_at[:-1], 99)))
    with pytest.raises(ValueError, match="names a label the model does not have"):
        loads(broken)
    with pytest.raises(ValueError, match="word-vector weights for 2 labels of 128 dimensions"):
        loads(dumps(replace(model, dense=model.dense[:-1])))
    with pytest.raises(ValueError, match="word-vector weight is too large"):
        loads(dumps(replace(model, dense=(1e4,) * len(model.dense))))


def test_train_then_edit_then_validate_asks_for_a_refit(mini_dir: Path) -> None:
    assert "routing uses word matching alone" in cli("validate", str(mini_dir)).stdout
    trained = cli("train", str(mini_dir))
    assert trained.returncode == 0, trained.stderr
    assert f"{mini_dir}/{FILE_NAME}" in trained.stdout and "fitted on " in trained.stdout
    assert cli("validate", str(mini_dir)).stdout.startswith("knowledge OK")
    assert Matcher(load_knowledge(mini_dir)).classifier_state == "fresh"

    edit(mini_dir / "intents.yaml", "      - best question bank for the boards\n", "      - best qbank for boards\n")
    stale = cli("validate", str(mini_dir))
    assert stale.returncode == 1
    assert stale.stdout == (
        f"{mini_dir}/{FILE_NAME}: fitted on other phrases than the knowledge has now — "
        "refit it: `python -m bot train`\n"
    )
    assert cli("train", str(mini_dir)).returncode == 0  # a refit over the stale file
    assert cli("validate", str(mini_dir)).returncode == 0


def test_a_stale_model_is_not_used(mini_dir: Path) -> None:
    kb = load_knowledge(mini_dir)
    write(train(Matcher(kb).training_pairs()), mini_dir)
    edit(mini_dir / "intents.yaml", "      - how does the match work\n", "      - how does the nrmp match work\n")
    stale = load_knowledge(mini_dir)
    assert stale.classifier is not None
    without = Matcher(replace(stale, classifier=None))
    with_stale = Matcher(stale)
    assert with_stale.classifier_state == "stale"
    for text in ("how does the match work", "question bank", "hello", "licensure"):
        assert with_stale.route(text) == without.route(text)


def test_the_service_warns_when_it_starts_with_a_stale_model(
    mini_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(train(Matcher(load_knowledge(mini_dir)).training_pairs()), mini_dir)
    config_path = tmp_path / "config.yaml"
    config_path.write_text(f"knowledge_dir: {mini_dir}\nstate_path: {tmp_path / 'state.sqlite3'}\n")
    config = load_config(config_path, env={"TELEGRAM_BOT_TOKEN": "123:abc"})
    with caplog.at_level(logging.WARNING):
        assert build_engine(config).matcher.classifier_state == "fresh"
    assert not caplog.records
    edit(mini_dir / "intents.yaml", "      - how does the match work\n", "      - how does the nrmp match work\n")
    with caplog.at_level(logging.WARNING):
        build_engine(config)
    [record] = caplog.records
    assert "fitted on other phrases" in record.getMessage() and "python -m bot train" in record.getMessage()


def test_the_shipped_model_fits_the_shipped_knowledge(shipped_kb: KnowledgeBase) -> None:
    assert Matcher(shipped_kb).classifier_state == "fresh"
    assert shipped_kb.classifier is not None
    assert set(shipped_kb.classifier.labels) >= {i.id for i in shipped_kb.topics}
