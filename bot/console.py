"""Console chat over the core: the README's first command. No token, no network.

Numbers follow the buttons of the last reply; /topics, /help, /about, /start, /forget and /quit work as in
Telegram (the console keeps its session in memory only; /forget starts a new one).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.engine import Engine, Session
from bot.replies import Reply

PROMPT = "you> "
COMMANDS = "/topics  /help  /about  /forget  /quit"


def render(reply: Reply) -> str:
    """The reply as the console shows it: the text, then the buttons numbered from 1."""
    lines = [reply.text]
    if reply.buttons:
        lines.append("")
        lines.extend(f"  [{n}] {b.label}" for n, b in enumerate(reply.buttons, start=1))
    return "\n".join(lines)


def chat(engine: Engine, *, read: Callable[[str], str] = input, write: Callable[[str], None] = print) -> int:
    """Run the chat loop until /quit or end of input."""
    session = Session()
    reply = engine.welcome()
    write(render(reply) + f"\n\n(Type a question, a button number, or {COMMANDS}.)")
    while True:
        try:
            line = read(PROMPT).strip()
        except (EOFError, KeyboardInterrupt):
            write("")
            return 0
        if line in ("/quit", "/exit", "/q"):
            return 0
        commands = {"/topics": engine.menu, "/menu": engine.menu, "/help": engine.help,
                    "/about": engine.about, "/start": engine.welcome}  # fmt: skip
        if line in commands:
            reply = commands[line]()
        elif line == "/forget":
            session, reply = Session(), engine.fixed("forget_done")
        elif line.isdigit() and 1 <= int(line) <= len(reply.buttons):
            turn = engine.handle_button(reply.buttons[int(line) - 1].payload, session)
            reply, session = turn.reply, turn.session
        else:
            turn = engine.handle_text(line, session)
            reply, session = turn.reply, turn.session
        write("\n" + render(reply) + "\n")
