"""The simulated endpoint devices."""

from __future__ import annotations

from ...model import Device, DeviceRole, Flow

ALL_ROLES = frozenset(DeviceRole)


def default_devices() -> tuple[Device, ...]:
    """Speakers (the default render device), a headset (the default communications render device) and a
    microphone (the default capture device for every role)."""
    return (
        Device("speakers", "Speakers", Flow.RENDER, 2, frozenset({DeviceRole.CONSOLE, DeviceRole.MULTIMEDIA})),
        Device("headset", "Headset", Flow.RENDER, 2, frozenset({DeviceRole.COMMUNICATIONS})),
        Device("microphone", "Microphone", Flow.CAPTURE, 1, ALL_ROLES),
    )


def check_devices(devices: tuple[Device, ...]) -> tuple[Device, ...]:
    """Validate a device set: unique ids, and one default per role and flow."""
    devices = tuple(devices)
    if not devices or not all(isinstance(d, Device) for d in devices):
        raise TypeError("devices must be a non-empty sequence of audiolab.Device")
    ids = [d.id for d in devices]
    if len(set(ids)) != len(ids):
        raise ValueError(f"device ids must be unique, got {ids}")
    if not any(d.flow is Flow.RENDER for d in devices):
        raise ValueError("the simulated service needs at least one render device")
    for flow in Flow:
        for role in DeviceRole:
            holders = [d.id for d in devices if d.flow is flow and role in d.default_for]
            if len(holders) > 1:
                raise ValueError(f"several default {flow.value} devices for {role.value}: {holders}")
    for d in devices:
        if d.channels < 1:
            raise ValueError(f"device {d.id!r} needs at least one channel")
    return devices


def default_device(devices: tuple[Device, ...], flow: Flow, role: DeviceRole = DeviceRole.CONSOLE) -> Device:
    """The default device of a flow for a role (falling back to the console default, then the first one)."""
    for wanted in (role, DeviceRole.CONSOLE):
        for d in devices:
            if d.flow is flow and wanted in d.default_for:
                return d
    for d in devices:
        if d.flow is flow:
            return d
    raise ValueError(f"no {flow.value} device")
