"""The site's content model, shared by the portal (which renders it) and the bots (which link to
it): articles and their front matter, campaigns and their dates, and every page's address.

It imports only the floor (``keerpunt.base``); the bots never import the portal.
"""
