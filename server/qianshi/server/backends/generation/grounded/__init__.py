"""The grounded generator: an interpretation composed from the retrieved traditional texts, no model.

``generator`` is the ``Generator`` (pacing, tokens, citations); ``compose`` writes the reading from
``verse`` (what the poem's lines say), ``lexicon`` (what a judgment's words mean, with ``words`` and
``idioms``), ``answer`` (which text answers the topic, and which passages hold it), ``stance`` (which
way the judgment, rank and verse lean), ``question`` (the question's form and options, with
``question_words``), ``reply`` (the answer in that form, worded in ``replies`` and ``outcomes``, with
the times, places and people of ``clues``), ``topics`` (the topic and its advice) and ``phrases`` and
``gloss`` (the other sentences in both locales); ``writer`` carries the locale and the seeded choices.
May import ``domain`` and this package only.
"""
