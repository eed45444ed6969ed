"""Admin commands by direct message, and the pause and mute that they set.

An account listed in ``FILROUGE_ADMINS`` steers the running bot by sending it a
direct message whose first word (after the @-mentions) is a command:

    pause                  stop answering mentions (they are still recorded)
    resume                 answer again
    status                 uptime, stream, counts by outcome, last error
    reload                 load the catalog and rules again (like SIGHUP)
    mute <status>          skip every mention in that status's thread
    unmute <status>        lift it
    optout <account>       opt an account out, as if it had said "stop"

``<status>`` is a status URL or id; ``<account>`` an account id, ``user@domain``
or profile URL (write it without a leading @: an @-mention in a direct message
makes that account a recipient of it). French words work too (``reprendre``,
``statut``/``état``, ``recharger``, ``sourdine``); accents and case are ignored.
The answer goes back by direct message to the admin alone, split over several
statuses when it is long (every reload error is listed).

What a moderator can expect:

- Only **direct** messages carry admin commands. A public or followers-only
  mention that starts with ``pause`` is an ordinary mention.
- A well-formed command by direct message from anyone else is **not obeyed and
  not answered** (an answer would tell a stranger the command exists): it is
  recorded as skipped ``not_admin``, logged as a warning and counted in
  ``filrouge_admin_commands_total{outcome="refused"}``.
- While paused, every mention still gets its outcome: skipped ``paused``, with
  what the bot would have done in its trace (``filrouge log --outcome skipped``
  lists them). None is kept for later: after ``resume`` the bot does not flood
  threads with answers to questions asked hours before. ``stop`` and ``start``
  still take effect while paused (consent always holds) but are not confirmed.
  The pause outlives a restart.
- A muted thread works the same way (skipped ``muted``), for mentions below the
  named status or anywhere under the root of its thread. Mutes outlive restarts.
- ``optout`` can be undone by the account itself with ``start``; to refuse an
  account for good use ``FILROUGE_BLOCKED``.

Admins are matched by account id when the setting gives one or when the
handle can be looked up at the first command, else by ``user@domain`` (a
local account may be written ``user``; the instance's domain is added).

Resolving a status URL of another server, or an account the instance does not
know yet, uses ``search_v2(resolve=True)``, which needs the ``read:search``
scope; URLs of the bot's own instance and ids need none.

Since Mastodon 4.3 a server filters private mentions from accounts the bot
does not follow, and filtered ones never reach it (see ``bot.app.runner``): let
the bot account follow its admins, or accept private mentions from anyone.

An answer is posted with idempotency keys derived from the command's
notification, so a retry after a crash gets the same statuses back; the
commands themselves can run twice harmlessly (pausing a paused bot, muting a
muted thread and reloading change nothing more).
"""
