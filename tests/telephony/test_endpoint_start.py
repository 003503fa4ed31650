"""An endpoint that cannot start says why, in words an operator can act on (pjsua2's
own Error prints as a SWIG object: a worker restarted in a loop saying nothing)."""

from __future__ import annotations

import socket

import pytest

from telephony.endpoint import PjEngine

from .conftest import worker_endpoint


async def test_a_sip_port_in_use_is_named_with_the_reason() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        port = squatter.getsockname()[1]
        engine = PjEngine(worker_endpoint(sip_port=port), lambda event: None)
        with pytest.raises(RuntimeError) as failure:
            await engine.start()
    message = str(failure.value)
    assert f"SIP 127.0.0.1:{port}" in message
    assert "transport_create" in message and "address already in use" in message.lower()
