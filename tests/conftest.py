"""Shared fixtures: the real stack (``devstack.testing``, started when it is not up) and Jupyter."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture
def jp_server_config(jp_server_config):
    return {"ServerApp": {"jpserver_extensions": {"jupyterlab_evn_submit": True}}}
