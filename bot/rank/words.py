"""The words analysis drops or treats apart: French and English function
words, the chatter of replies, the function words that say something alone,
and the words that are function words in one language only.
"""

from __future__ import annotations

from bot.text.fold import fold


def words(text: str) -> frozenset[str]:
    return frozenset(fold(word) for word in text.split())


#: French function words (folded), with the conjugations of être and avoir,
#: inclusive pronouns (iel, celleux), chat fillers (genre, truc) and number
#: words: « deux » in « il y a deux ans » and in « les deux camps » says
#: nothing of a topic, and matched « two years » to the wrong essay.
STOP_FR = words(
    """
    a à afin ah ai aie aient aies ait alors as au aucun aucune aujourd auquel aura aurai
    auraient aurais aurait auras aurez auriez aurions aurons auront aussi autre autres aux
    avaient avais avait avant avec avez aviez avions avoir avons ayant ayez ayons bah bas bon
    c ça car ce ceci cela celle celles celleux celui cependant certes ces cet cette ceux
    chaque chez ci comme comment d dans de déjà depuis des desquels dit dites donc dont du
    duquel elle elles en encore entre es est et étaient étais était étant étiez étions été
    être eu eue eues eûmes eurent eus eut eûtes eux fait faire fais faut fois font fûmes
    furent fus fut fûtes genre hein hui ici iel iels il ils j je jusqu l la là laquelle le
    lequel les lesquelles lesquels leur leurs lorsqu lui m ma mais me même mêmes mes moi mon
    n ne ni non nos notre nous o on ont or ou où oui par parce pas peu peut peuvent peux plus
    pour pourquoi puis puisqu qu quand que quel quelle quelles quels qui quoi quoiqu re rien
    s sa sans se sera serai seraient serais serait seras serez seriez serions serons seront
    ses si sinon soi soient sois soit sommes son sont sous soyez soyons suis sur t ta tant te
    tel telle tes toi ton tous tout toute toutes très trop truc tu un une va vais vas voilà
    vont vos votre vous vu y deux trois quatre cinq six sept huit neuf dix cent mille
    """
)
#: English function words (folded), and number words as in French;
#: contractions arrive split at the apostrophe.
STOP_EN = words(
    """
    a about above after again against all also am an and any are aren as at be because been
    before being below between both but by can cannot could couldn d did didn do does doesn
    doing don down during each even ever few for from further get gets got had hadn has hasn
    have haven having he her here hers herself him himself his how i if in into is isn it its
    itself just let ll m may me might more most much must mustn my myself no nor not now of
    off on once one only or other our ours ourselves out over own quite re really s same say
    says shall shan she should shouldn so some such t than that the their theirs them
    themselves then there these they this those through thus to too under until up upon us
    ve very was wasn we were weren what when where which while who whom why will with won
    would wouldn yes yet you your yours yourself yourselves
    two three four five six seven eight nine ten hundred thousand
    """
)
#: Conversation words that say nothing about what a post discusses ("merci
#: pour le partage, je lis ça ce soir", "what do you think of this new
#: post?"): without them a polite remark can look like it is about an essay.
CHATTER = words(
    """
    article avis billet bonjour bonsoir coucou demain fil hier lien lire lis lit lu merci
    parle parlent parler parles parlez parlons partage partager pense penses pensez post
    poste question salut soir super texte thread trouve trouves trouvez trouvé vraiment
    actually article good great guess hello hi link lol maybe ok okay please post read
    reading share sharing stuff thank thanks thing things think thought today tomorrow
    tonight yeah yesterday new
    hmm mouais bof exactement carrément though exactly indeed agree agreed true thoughts
    ouais ouaip ouep euh ben bref enfin franchement clairement tellement juste vrai vraie
    perso ptet mdr ptdr haha hihi xd oh ouf pff pfff
    yep yup nope nah sure literally honestly genuinely basically totally absolutely
    definitely seriously kinda sorta lmao lmfao omg wow tbh imo imho idk ngl btw smh
    hey uh um said mood relatable preach
    """
)
#: Function words that say something alone, as a keyword of one word: time
#: (« avant », "before", "again"), absence (« sans »), sameness (« même »,
#: "same") and doing it oneself ("yourself"). A keyword of one of them is
#: matched word for word (``bot.rank.phrases``); one of the other function
#: words alone (« de », "the") would match nearly every post, and is not.
ALONE = words(
    """
    avant depuis déjà encore sans soi même
    before after again once until same
    yourself myself ourselves yourselves themselves herself himself itself
    """
)
#: Words that are function words in one language but carry meaning in the
#: other ("ai" is French "j'ai" and English "AI"; "an" is a French year).
KEEP_IN_FR = words("an")
KEEP_IN_EN = words("ai car comment encore font genre mon non plus pour son ton")
STOP_ANY = STOP_FR | STOP_EN | CHATTER
STOP_WORDS = {
    "fr": STOP_FR | (STOP_EN - KEEP_IN_FR) | CHATTER,
    "en": STOP_EN | (STOP_FR - KEEP_IN_EN) | CHATTER,
    # A text known to be in the other language: its own function words are
    # function words whatever space reads it, so both languages' are. The
    # English article "an" is not the French year of « deux ans », nor the
    # French « car » and « comment » English words. The key is the stemmer's
    # language, then ``<`` and the text's (``bot.rank.analysis.reading``).
    "fr<en": STOP_ANY,
    "en<fr": STOP_ANY,
}


def _stems(table: str) -> dict[str, str]:
    """``stem: word word …`` lines → {word: stem}, each word as written
    (casefolded) and folded: the stemmer is given casefolded words that
    keep their accents, typed with them or not."""
    found: dict[str, str] = {}
    for line in table.strip().splitlines():
        stem, _, listed = line.partition(":")
        for word in listed.split():
            found[word.casefold()] = found[fold(word)] = stem.strip()
    return found


#: Words whose Snowball stem is an unrelated word's, with the stem each is
#: given instead (the stemmer is not asked). The French stemmer reads
#: « profit » as « profs », « via » as « vie », « pétition » as « petite »,
#: « données » as « dons », « gens » as « gêne », « géants » as two letters,
#: and "better", in an English text it reads, as « bête »; the English one
#: reads "polite" as "politics", "meaning" as "means" and "literal" as
#: "liters". Each line keeps a word's inflections together and apart from
#: the words it was taken for.
STEM_OVERRIDES: dict[str, dict[str, str]] = {
    "fr": _stems(
        """
        profit: profit profits
        openai: openai
        via: via
        petit: petit petits petite petites
        petition: pétition pétitions
        donnee: donnée données
        gens: gens
        geant: géant géants géante géantes
        fini: fini finis finie finies
        rendement: rendement rendements
        sentiment: sentiment sentiments
        better: better
        """
    ),
    "en": _stems(
        """
        polite: polite politely politeness
        meaning: meaning meanings
        literal: literal
        literate: literate
        """
    ),
}
