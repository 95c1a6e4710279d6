import jupyterlab_evn_submit


def test_extension_points_name_the_package():
    assert jupyterlab_evn_submit._jupyter_server_extension_points() == [
        {"module": "jupyterlab_evn_submit"}
    ]


async def test_status_route_is_registered(jp_fetch):
    r = await jp_fetch("evn-submit", "status")
    assert r.code == 200
