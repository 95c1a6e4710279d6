"""The development stack: a real Keycloak, a real Gitea and the notebook service on 127.0.0.1.

Standard library only, so that it runs on a fresh machine before any environment exists.
``python3 -m devstack up|status|env|down|logs`` (see ``__main__.py``).
"""
