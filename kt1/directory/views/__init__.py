"""Directory web pages: administrative units, agencies (with addresses and contacts), facilities.

Views parse, call a selector or a service, and render. Reads start from the viewer's scope
(selectors: out of scope answers 404); writes need ``directory.manage`` and the object in the
person's change scope (``require``: visible but not changeable answers 403).
"""
