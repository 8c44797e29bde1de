"""The local writer on the 12 transcripts in bench/transcripts (8 Russian, 4 English), through the
service as a user drives it: each transcript is spoken (RHVoice or Piper) into a clip, uploaded,
transcribed by the local Whisper, then rewritten by the local model once per strategy
(`through_english` for Russian only: an English script is written in English by `sentences`).
Prints Markdown: per strategy and language, how many drafts passed every gate, how many scripts
the model wrote, how many of those pass every gate (spelling and loops included), how many are
about the reel, how many need review, how many scripts shown without a review flag hold a word
`hunspell` does not know (a second opinion on the service's own spelling check), and the
seconds per script.

Usage: bench/writer.py BINARY DATABASE_URL
A part of it (for a busy machine): WRITER_BENCH_STRATEGIES=through_english,sentences
WRITER_BENCH_LANGUAGES=ru WRITER_BENCH_LIMIT=4 (transcripts per language).
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
STRATEGIES = tuple(os.environ.get("WRITER_BENCH_STRATEGIES", "sentences,through_english,whole").split(","))
LANGUAGES = tuple(os.environ.get("WRITER_BENCH_LANGUAGES", "ru,en").split(","))
LIMIT = int(os.environ.get("WRITER_BENCH_LIMIT", "8"))
DICTIONARIES = {"ru": "ru_RU", "en": "en_US"}
VOICES = {"ru": "rhvoice-aleksandr-hq", "en": "piper-joe"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    def __init__(self, base, token):
        self.base, self.token = base, token

    def call(self, method, path, body=None, content_type="application/json"):
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=900) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"{method} {path}: {error.code} {error.read().decode()}") from None

    def wait_job(self, job_id, limit=3600):
        deadline = time.time() + limit
        while time.time() < deadline:
            job = self.call("GET", f"/v1/jobs/{job_id}")
            if job["status"] in ("succeeded", "failed", "canceled"):
                return job
            time.sleep(0.5)
        raise RuntimeError(f"job {job_id} timed out")


def clip(engine, language, text, path):
    """A small vertical video whose sound is `text` spoken by the local engine."""
    request = urllib.request.Request(f"{engine}/v1/audio/speech", data=json.dumps(
        {"input": text, "voice": VOICES[language], "response_format": "wav"}).encode(),
        headers={"Content-Type": "application/json"})
    wav = path + ".wav"
    with urllib.request.urlopen(request, timeout=600) as response, open(wav, "wb") as out:
        out.write(response.read())
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=0x203040:s=180x320:r=10",
                    "-i", wav, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-shortest", path], check=True)


def unknown_words(language, text, transcript):
    """The words of `text` that `hunspell` knows neither from its dictionary nor the transcript."""
    def listed(words):
        return set(subprocess.run(["hunspell", "-d", DICTIONARIES[language], "-l"], input=words,
                                  capture_output=True, text=True, check=True).stdout.split())
    # The transcript's own words (as the service's spelling gate allows them), without the
    # punctuation around them: "чатдома." is the word "чатдома".
    known = {w.lower().strip(".,!?:;«»\"()—") for w in transcript.replace("#", " ").split()}
    return sorted(w for w in listed(text) if w.lower() not in known)


def upload(api, project, path):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{os.path.basename(path)}\"\r\n"
            "Content-Type: video/mp4\r\n\r\n").encode() + open(path, "rb").read() + f"\r\n--{boundary}--\r\n".encode()
    started = api.call("POST", f"/v1/projects/{project}/collections/files", body,
                       f"multipart/form-data; boundary={boundary}")
    api.wait_job(started["job"]["id"])


def main():
    binary, database_url = sys.argv[1], sys.argv[2]
    port, engine_port = free_port(), free_port()
    media = tempfile.mkdtemp(prefix="reelforge-bench-writer-")
    env = dict(os.environ, DATABASE_URL=database_url, REELFORGE__SERVER__PORT=str(port),
               REELFORGE__ENGINES__ENABLED="true", REELFORGE__ENGINES__PORT=str(engine_port),
               REELFORGE__MEDIA__ROOT=media, RUST_LOG="warn")
    server = subprocess.Popen([binary, "serve"], env=env, stderr=subprocess.DEVNULL)
    base, engine = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{engine_port}"
    try:
        for url in (f"{base}/readyz", f"{engine}/health"):
            for _ in range(600):
                try:
                    urllib.request.urlopen(url, timeout=1).read()
                    break
                except OSError:
                    time.sleep(0.2)
        token = subprocess.run([binary, "token", "create", "--name", f"bench-{uuid.uuid4().hex[:8]}"], env=env,
                               capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        api = Api(base, token)
        transcripts = {}
        for language in LANGUAGES:
            project = api.call("POST", "/v1/projects", {"name": f"writer bench {language}", "language": language,
                                                        "settings": {"providers": {"transcribe": "local", "rewrite": "local"}}})
            for name in sorted(f for f in os.listdir(os.path.join(HERE, "transcripts")) if f.startswith(language))[:LIMIT]:
                text = open(os.path.join(HERE, "transcripts", name)).read().strip()
                path = os.path.join(media, name.replace(".txt", ".mp4"))
                clip(engine, language, text, path)
                upload(api, project["id"], path)
            reels = api.call("GET", f"/v1/projects/{project['id']}/reels?limit=100")["items"]
            for reel in reels:
                # The upload's job imports the reel; its own checks and audio may still run.
                for _ in range(1200):
                    if api.call("GET", f"/v1/reels/{reel['id']}")["status"] in ("succeeded", "failed"):
                        break
                    time.sleep(0.5)
                started = api.call("POST", f"/v1/reels/{reel['id']}/transcripts",
                                   {"provider": "local", "options": {"language": language}})
                job = api.wait_job(started["job"]["id"])
                if job["status"] == "succeeded":
                    transcripts.setdefault(language, []).append((project["id"], started["resource"]["id"]))
        rows, samples = [], {}
        for strategy in STRATEGIES:
            for language, items in transcripts.items():
                if strategy == "through_english" and language == "en":
                    continue
                project_ids = {project for project, _ in items}
                for project in project_ids:
                    api.call("PATCH", f"/v1/projects/{project}", {"settings": {"rewrite": {
                        "revisions": 2, "max_reuse": 0.2, "allow_fallback": True, "instructions": None,
                        "strategy": strategy}}})
                outputs, seconds, invented = [], [], []
                for _, transcript in items:
                    started = api.call("POST", f"/v1/transcripts/{transcript}/scripts", {"provider": "local"})
                    began = time.time()
                    job = api.wait_job(started["job"]["id"])
                    seconds.append(time.time() - began)
                    script = api.call("GET", f"/v1/scripts/{started['resource']['id']}")
                    # Each script as it is written, so a long run can be read while it runs.
                    output = script.get("output") or {}
                    print(json.dumps({"strategy": strategy, "language": language, "seconds": round(seconds[-1]),
                                      "status": job["status"], "writer": output.get("writer"),
                                      "review_reasons": output.get("review_reasons"), "text": output.get("text")},
                                     ensure_ascii=False), file=sys.stderr, flush=True)
                    if job["status"] == "succeeded":
                        outputs.append(script["output"])
                        if not script["output"]["needs_review"]:
                            source = api.call("GET", f"/v1/transcripts/{transcript}")["output"]["text"]
                            invented += unknown_words(language, script["output"]["text"], source)
                attempts = [a for o in outputs for a in o["attempts"]]
                passing = sum(1 for a in attempts if not [f for f in a["failed"] if f != "grounded"])
                model_written = sum(1 for o in outputs if o["writer"] in ("model", "fitted")
                                    and not any(r.startswith("fitted with stock") for r in o["review_reasons"]))
                every_gate = sum(1 for o in outputs if o["writer"] in ("model", "fitted") and not o["needs_review"])
                grounded = sum(1 for o in outputs if any(c["name"] == "grounded" and c["passed"] for c in o["checks"]))
                review = sum(1 for o in outputs if o["needs_review"])
                rows.append((strategy, language, f"{len(outputs)} of {len(items)}", f"{passing} of {len(attempts)}",
                             f"{model_written}", f"{every_gate}", f"{grounded}", f"{review}",
                             ", ".join(invented) or "none", f"{statistics.median(seconds):.0f} s"))
                # Each row as it is measured, so a long run shows where it is.
                print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
                written = [o for o in outputs if o["writer"] != "fallback"]
                if written:
                    # A sample is a script that needs no review when there is one; else it
                    # shows why it does.
                    samples[(strategy, language)] = next((o for o in written if not o["needs_review"]), written[0])
        print("| strategy | language | scripts | drafts passing every gate | written by the model | of those, passing every gate | grounded | needs review | words hunspell does not know, in scripts without a review flag | median s per script |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        print()
        for (strategy, language), output in samples.items():
            review = f" (needs review: {'; '.join(output['review_reasons'])})" if output["needs_review"] else ""
            print(f"A {language} script, {strategy}{review}: \"{output['text']}\"")
            print()
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
