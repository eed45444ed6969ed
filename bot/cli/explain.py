"""``filrouge explain``: why the bot would answer a mention the way it does.

Same inputs as ``preview``; prints the trace: guards, heat, essay, every rule
tried and why it matched or not, the candidates with their scores, the length
budget, the decision.
"""

from __future__ import annotations

import argparse
import json

from bot.cli.preview import add_mention_arguments


def configure(parser: argparse.ArgumentParser) -> None:
    add_mention_arguments(parser)
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object: decision and trace"
    )


def run(args: argparse.Namespace) -> int:
    from bot.cli.preview import as_json, decide_args
    from bot.model.decision import Reply

    result = decide_args(args)
    if isinstance(result, int):
        return result
    inputs, outcome = result
    if args.json:
        data = {
            "decision": as_json(inputs, outcome),
            "heat": outcome.heat.score if outcome.heat else None,
            "trace": outcome.trace.to_json(),
        }
        print(json.dumps(data, ensure_ascii=False))
        return 0
    print(outcome.trace.to_text())
    decision = outcome.decision
    if isinstance(decision, Reply):
        print()
        print(decision.text)
    return 0
