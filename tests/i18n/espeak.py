"""What espeak-ng makes of a text in a language's IVR voice, as phonemes (`-x`): the tests
of spoken prompts read them (an empty line is a number the voice skips; "(en)" a switch
to the English voice)."""

from __future__ import annotations

import subprocess

from i18n.prompts import voice_for


def phonemes(text: str, language: str) -> str:
    result = subprocess.run(
        ["espeak-ng", "-v", voice_for(language), "-q", "-x", "--stdin"],
        input=text.encode(),
        capture_output=True,
        check=True,
        timeout=30,
    )
    return result.stdout.decode().strip()
