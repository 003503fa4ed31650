"""One worker's calls: an explicit call state and a small controller per stage of the
call's life (IVR, waiting, offers, callback, transfer, survey, recording, monitoring),
composed by `VoiceCalls`."""

from telephony.calls.call import Call, CallState, Role
from telephony.calls.voicecalls import UnknownCall, VoiceCalls

__all__ = ["Call", "CallState", "Role", "UnknownCall", "VoiceCalls"]
