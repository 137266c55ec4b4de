"""Rendering replies for Telegram: escaped HTML, keyboards, and admin reports that fit one message."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.replies import Button, Reply
from bot.state import Stats
from bot.telegram_render import MAX_TEXT, fit_lines, render_html, render_keyboard, render_stats
from tests.fake_bot_api import _plain, check_html


def test_heading_is_bold_and_every_piece_is_escaped() -> None:
    reply = Reply(("Q&A <script>", "a > b"), heading="Step 2 <CK> & you")
    assert render_html(reply) == "<b>Step 2 &lt;CK&gt; &amp; you</b>\n\nQ&amp;A &lt;script&gt;\n\na &gt; b"


@given(st.text(), st.lists(st.text(), max_size=4))
def test_nothing_in_a_reply_can_break_its_html(heading: str, paragraphs: list[str]) -> None:
    html = render_html(Reply(tuple(paragraphs), heading=heading))
    if len(_plain(html)) <= MAX_TEXT:
        assert check_html(html) is None


def test_buttons_go_two_to_a_row_with_their_payloads() -> None:
    reply = Reply(("x",), buttons=(Button("More tips", "usmle", more=True), Button("Residency", "residency"),
                                   Button("Nursing", "nursing")))  # fmt: skip
    keyboard = render_keyboard(reply)
    assert keyboard is not None
    rows = [[(b.text, b.callback_data) for b in row] for row in keyboard.inline_keyboard]
    assert rows == [[("More tips", "more:usmle"), ("Residency", "residency")], [("Nursing", "nursing")]]
    assert render_keyboard(Reply(("x",))) is None


def test_long_reports_are_cut_to_one_message_saying_how_many_were_left_out() -> None:
    lines = [f"knowledge/topics.yaml:{n}: example is listed twice — remove one" for n in range(500)]
    text = fit_lines("Reload failed", lines)
    assert len(_plain(text)) <= MAX_TEXT
    assert text.startswith("<b>Reload failed</b>\nknowledge/topics.yaml:0: example")
    assert text.splitlines()[-1].startswith("… and ") and text.endswith(" more")
    kept = len(text.splitlines()) - 2
    assert text.splitlines()[-1] == f"… and {500 - kept} more"


def test_stats_report() -> None:
    stats = Stats(
        users=3,
        outcomes={"answer": 6, "clarify": 1, "fallback": 1, "button": 4, "stale": 1, "start": 2, "link": 1},
        top_intents=[("usmle", 5), ("residency", 2)],
        top_unanswered=[("<b>architect</b>", 2)],
    )
    assert render_stats(stats).split("\n") == [
        "<b>Bot statistics</b>",
        "Users: 3",
        "Messages: 8 (answer 75%, clarify 12%, fallback 12%)",
        "Button presses: 5 (1 stale)",
        "Starts: 3 (1 by deep link)",
        "",
        "Top topics:",
        "• usmle — 5",
        "• residency — 2",
        "",
        "Most frequent unanswered:",
        "• &lt;b&gt;architect&lt;/b&gt; — 2",
    ]
    empty = render_stats(Stats(0, {}, [], []))
    assert "Messages: 0 (answer 0%, clarify 0%, fallback 0%)" in empty and empty.count("• none yet") == 2
