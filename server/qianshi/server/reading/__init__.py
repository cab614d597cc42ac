"""The reading: what this slip says to this question, worked out once, deterministically.

``plan`` is the entry point (``read`` → ``Reading``, frozen dataclasses every writer renders and the
guard checks). Question understanding: ``question`` (the form and options, with ``question_words``),
``categories/`` (the topic, in the common vocabulary and the set's own names), ``topics`` (a topic's
names and advice). The slip: ``answer`` (which text answers, which passages hold it), ``lexicon`` with
``words`` and ``idioms`` (what a judgment says), ``verse`` (the verse's images), ``stance`` (which way it
leans), ``clues`` (times, places, people), ``response`` (the answer in the question's form),
``outcomes`` (what a lean means for a topic). May import ``domain``, ``errors``, ``config``,
``chinese`` and this package only: the pipeline and the generators import it, never the reverse.
"""
