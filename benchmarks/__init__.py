"""Benchmarks of medcareer-bot: routing speed, start-up, memory, end-to-end throughput and accuracy at size.

`python -m benchmarks` (or `make bench`) runs every part, prints one table and writes `benchmarks/RESULTS.md`;
`--quick` runs the same parts on tiny sizes (the smoke test uses it). Nothing here is imported by the bot, and
nothing here changes the bot: the parts drive the core, the `ask` command and the Telegram service from outside.
"""
