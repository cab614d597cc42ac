"""The grounded generator: an interpretation composed from the retrieved traditional texts, no model.

``generator`` is the ``Generator`` (pacing, tokens, citations); ``compose`` writes the reading from
``verse`` (what the poem's lines say), ``lexicon`` (what a judgment's words mean, with ``words`` and
``idioms``), ``answer`` and ``topics`` (the advice for the question's topic) and ``phrases`` (the
sentences in both locales). May import ``domain`` and this package only.
"""
