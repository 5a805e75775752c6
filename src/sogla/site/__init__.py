"""The composition root, the top floor of the house: it puts the apps together.

It holds what knows every app: the URL root (``urls``), the API mount
(``api_urls``), the navigation counts every page shows (``context_processors``),
the background worker (``worker``) and the ``serve`` and ``worker`` commands. The
kits ``sogla.api`` and ``sogla.web`` stay below the apps, which use them.
"""
