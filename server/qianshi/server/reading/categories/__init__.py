"""Question understanding: which of a set's categories (婚姻, 功名, 疾病 …) a question asks about.

``fold`` readies the question (one script with OpenCC, written Cantonese and Taiwanese Hokkien and
casual English rewritten by the tables of ``vernacular``), ``match`` finds the keywords of ``data``
(from ``zh`` and ``en``), ``understand`` picks the topic the question asks about and a secondary one,
and ``infer`` maps it onto the set's own category names. May import ``domain``, ``errors``,
``chinese`` and this package only.
"""
