"""RHVoice through its C library (librhvoice5), with ctypes: Debian's non-free `rhvoice-russian`
unpacked by scripts/setup into REELFORGE_CACHE/rhvoice, keeping only the voices whose licences
allow any use: `anna` (LGPL-2.1+) and `aleksandr-hq` (CC-BY-SA-4.0).

The layout of the structures follows RHVoice.h of 1.8.0.
"""

import ctypes
import glob
import os
import threading
import wave

ROOT = os.path.join(
    os.environ.get("REELFORGE_CACHE", os.path.expanduser("~/.cache/reelforge")), "rhvoice"
)
def _library(name):
    """The unpacked shared library `name` (any soname version), or a path that does not exist."""
    found = sorted(glob.glob(os.path.join(ROOT, "usr/lib/*", f"{name}.so.[0-9]")))
    return found[-1] if found else os.path.join(ROOT, f"{name}.so")


LIBRARY = _library("libRHVoice")
CORE = _library("libRHVoice_core")
DATA = os.path.join(ROOT, "usr/share/RHVoice")
CONFIG = os.path.join(ROOT, "etc/RHVoice")
# Voice, language, licence. Any other voice the package carries is deleted at setup: their
# licences forbid commercial use.
VOICES = {
    "anna": ("ru", "LGPL-2.1+"),
    "aleksandr-hq": ("ru", "CC-BY-SA-4.0"),
}

SET_SAMPLE_RATE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
PLAY_SPEECH = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_uint, ctypes.c_void_p
)
# Optional callbacks are left null.
OPTIONAL = ctypes.c_void_p


class Callbacks(ctypes.Structure):
    _fields_ = [
        ("set_sample_rate", SET_SAMPLE_RATE),
        ("play_speech", PLAY_SPEECH),
        ("process_mark", OPTIONAL),
        ("word_starts", OPTIONAL),
        ("word_ends", OPTIONAL),
        ("sentence_starts", OPTIONAL),
        ("sentence_ends", OPTIONAL),
        ("play_audio", OPTIONAL),
        ("done", OPTIONAL),
    ]


class InitParams(ctypes.Structure):
    _fields_ = [
        ("data_path", ctypes.c_char_p),
        ("config_path", ctypes.c_char_p),
        ("resource_paths", ctypes.POINTER(ctypes.c_char_p)),
        ("callbacks", Callbacks),
        ("options", ctypes.c_uint),
    ]


class SynthParams(ctypes.Structure):
    _fields_ = [
        ("voice_profile", ctypes.c_char_p),
        ("absolute_rate", ctypes.c_double),
        ("absolute_pitch", ctypes.c_double),
        ("absolute_volume", ctypes.c_double),
        ("relative_rate", ctypes.c_double),
        ("relative_pitch", ctypes.c_double),
        ("relative_volume", ctypes.c_double),
        ("punctuation_mode", ctypes.c_int),
        ("punctuation_list", ctypes.c_char_p),
        ("capitals_mode", ctypes.c_int),
        ("flags", ctypes.c_int),
    ]


MESSAGE_TEXT = 0


def problem():
    """Why RHVoice cannot speak here, or None."""
    if not os.path.exists(LIBRARY):
        return f"RHVoice is not installed at {ROOT} (run scripts/setup)"
    missing = [v for v in VOICES if not os.path.isdir(os.path.join(DATA, "voices", v))]
    if missing:
        return f"RHVoice voices missing: {', '.join(missing)} (run scripts/setup)"
    return None


class Engine:
    """One RHVoice engine; synthesis is serialised, as the library's callbacks are global to a
    message and the engine is cheap to keep."""

    def __init__(self):
        self._lock = threading.Lock()
        self._samples = []
        self._rate = 24000
        # The library finds its core through the loader, which does not look in the cache.
        ctypes.CDLL(CORE, mode=ctypes.RTLD_GLOBAL)
        self._library = ctypes.CDLL(LIBRARY)
        self._library.RHVoice_new_tts_engine.restype = ctypes.c_void_p
        self._library.RHVoice_new_tts_engine.argtypes = [ctypes.POINTER(InitParams)]
        self._library.RHVoice_new_message.restype = ctypes.c_void_p
        self._library.RHVoice_new_message.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.POINTER(SynthParams),
            ctypes.c_void_p,
        ]
        self._library.RHVoice_speak.argtypes = [ctypes.c_void_p]
        self._library.RHVoice_delete_message.argtypes = [ctypes.c_void_p]
        # The callbacks must outlive the engine: keep references.
        self._set_rate = SET_SAMPLE_RATE(self._on_rate)
        self._play = PLAY_SPEECH(self._on_speech)
        params = InitParams(
            data_path=DATA.encode(),
            config_path=CONFIG.encode(),
            resource_paths=None,
            callbacks=Callbacks(set_sample_rate=self._set_rate, play_speech=self._play),
            options=0,
        )
        self._engine = self._library.RHVoice_new_tts_engine(ctypes.byref(params))
        if not self._engine:
            raise RuntimeError("RHVoice could not start (its data or configuration is unreadable)")

    def _on_rate(self, rate, _user):
        self._rate = rate
        return 1

    def _on_speech(self, samples, count, _user):
        self._samples.append(ctypes.string_at(samples, count * 2))
        return 1

    def speak(self, text, voice, speed, path):
        """Writes `text` spoken by `voice` at `speed` (1 is the voice's own) to a WAV file."""
        if voice not in VOICES:
            raise ValueError(f"unknown RHVoice voice `{voice}`: {', '.join(VOICES)}")
        # RHVoice's rate runs from -1 to 1 around the voice's own pace, which it can double or
        # halve; relative_rate scales beyond that.
        params = SynthParams(
            voice_profile=voice.encode(),
            absolute_rate=0.0,
            absolute_pitch=0.0,
            absolute_volume=0.0,
            relative_rate=float(speed),
            relative_pitch=1.0,
            relative_volume=1.0,
            punctuation_mode=0,
            punctuation_list=None,
            capitals_mode=0,
            flags=0,
        )
        data = text.encode("utf-8")
        with self._lock:
            self._samples = []
            message = self._library.RHVoice_new_message(
                self._engine, data, len(data), MESSAGE_TEXT, ctypes.byref(params), None
            )
            if not message:
                raise RuntimeError("RHVoice refused the text")
            try:
                if not self._library.RHVoice_speak(message):
                    raise RuntimeError("RHVoice failed to speak")
            finally:
                self._library.RHVoice_delete_message(message)
            audio, rate = b"".join(self._samples), self._rate
        with wave.open(path, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(audio)
