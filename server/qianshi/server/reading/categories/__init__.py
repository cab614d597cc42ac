"""Question understanding: which of a set's categories (婚姻, 功名, 疾病 …) a question asks about.

``infer`` scores a question against ``data`` (the categories and their keywords, from ``zh`` and
``en``) and maps the result onto the set's own category names. May import ``domain``, ``errors`` and
this package only.
"""
