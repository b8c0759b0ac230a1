"""The wheel platform tag is the one packaging.tags computes on the device."""

from __future__ import annotations

import sysconfig

import pytest
from packaging import tags

from pyrust.machines import machine_names, machine_vars
from pyrust.pyabi import python_abi, wheel_tags
from pyrust.target import target_from_vars

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("machine", machine_names())
def test_platform_tag_is_what_packaging_derives_on_the_device(machine, monkeypatch):
    abi = python_abi(target_from_vars(machine_vars(machine)), "3.14")
    # On the device, sysconfig.get_platform() is _PYTHON_HOST_PLATFORM's value.
    monkeypatch.setattr(sysconfig, "get_platform", lambda: abi.host_platform)
    assert abi.platform_tag in list(tags.platform_tags())
    assert wheel_tags(abi)[0] == f"cp314-cp314-{abi.platform_tag}"
