"""The EVN notebook service: the archive's only writer to Gitea (``evn-notebook-service``).

``app.make_app`` builds the Tornado application; ``__main__`` runs it. See ``service/README.md``.
"""

__version__ = "0.2.0"
