"""The EVN notebook service: the archive's only writer to Gitea (``evn-notebook-service``).

``app.make_app`` builds the Tornado application; ``__main__`` runs it. See ``docs/service.md``.
"""
