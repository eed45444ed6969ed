"""``supprime`` / ``delete``: the bot takes back one of its replies when the
people it concerns ask, in answer to that reply.

Who has a say over a reply:

- the **requester**, who mentioned the bot and got the reply;
- the **author** of the post the requester answered — the person the quote
  or prompt was, in effect, addressed to;
- an **admin** (``FILROUGE_ADMINS``).

Anyone else's request is recorded as ``take_back_refused`` and answered with
silence: a stranger must not learn whether the bot would have obeyed. A reply
already taken back is not taken back twice, and the second request is not
confirmed. The decision is pure: the actor deletes the post
(``Reply.takes_back``) before the confirmation goes out, by direct message to
the person who asked and no one else.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.decide.fit import fit_reply, make_reply
from bot.decide.policy import account_keys, listed_keys
from bot.decide.trace import Inputs, Step
from bot.model.decision import Decision, Reply, Skip, SkipReason

if TYPE_CHECKING:
    from bot.model.catalog import Rule
    from bot.model.decision import Explained
    from bot.text.render import Template


def entitled(inputs: Inputs, explained: Explained) -> str | None:
    """On whose behalf the asker may have ``explained`` taken back: ``requester``,
    ``author`` or ``admin``; None for anyone else."""
    policy = inputs.policy
    account = inputs.mention.post.account
    if explained.account_id and account.id == explained.account_id:
        return "requester"
    ancestors = inputs.thread.ancestors
    for position, post in enumerate(ancestors):
        # The mention the bot answered, then the post it replied to.
        if post.id == explained.in_reply_to_id and position > 0:
            if ancestors[position - 1].account.id == account.id:
                return "author"
            break
    admins = listed_keys(frozenset(policy.admins), policy.instance_domain)
    keys = account_keys(account, policy.instance_domain, with_domain=False)
    if admins and any(key in admins for key in keys):
        return "admin"
    return None


def take_back_reply(
    inputs: Inputs,
    rule: Rule,
    language: str,
    template: Template,
    base: dict[str, str],
    steps: list[Step],
) -> Decision:
    """Delete the bot's post this mention answers, and confirm it to the asker."""
    explained = inputs.history.explained
    asker = inputs.mention.post.account
    if explained is None:
        steps.append(Step("take_back", "reply", False, "not a reply to one of the bot's posts"))
        return Skip(
            SkipReason.TAKE_BACK_REFUSED, "not in reply to one of the bot's posts", rule.name
        )
    taken = explained.taken_back_at
    if taken is not None and explained.taken_back_notification != inputs.mention.notification_id:
        detail = f"{explained.status_id} was taken back at {taken:%Y-%m-%d %H:%M} UTC"
        steps.append(Step("take_back", explained.status_id, False, detail))
        return Skip(SkipReason.TAKE_BACK_REFUSED, detail, rule.name)
    who = entitled(inputs, explained)
    if who is None:
        detail = (
            f"@{asker.acct} is neither the requester, the author of the post answered nor an admin"
        )
        steps.append(Step("take_back", explained.status_id, False, detail))
        return Skip(SkipReason.TAKE_BACK_REFUSED, detail, rule.name)
    steps.append(Step("take_back", explained.status_id, True, f"asked by the {who}", {"for": who}))
    fitted = fit_reply(template, base, [(None, {})], None, None, inputs, steps)
    if fitted is None:
        # The deletion never depends on the confirmation's length.
        return Skip(
            SkipReason.DOES_NOT_FIT,
            "the confirmation does not fit; taken back unconfirmed",
            rule.name,
            takes_back=explained.status_id,
            taken_back_for=who,
        )
    reply: Reply = make_reply(inputs, rule, language, fitted.text)
    return replace(reply, takes_back=explained.status_id, taken_back_for=who)
