"""Drives engines/server.py over HTTP like the service does and prints a Markdown table."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

RU_TEXT = (
    "Остановись на секунду и честно спроси себя, чего ты хочешь на самом деле. Большие перемены "
    "начинаются с маленького шага, который ты делаешь сегодня. Не жди идеального момента, его не "
    "будет, есть только сейчас. Каждый день ты выбираешь, кем станешь через год. Дисциплина важнее "
    "мотивации, потому что она работает даже в плохие дни. Ошибки не делают тебя слабее, они "
    "показывают, где ты растёшь. Сравнивай себя только с тем, кем ты был вчера. Запиши одну цель и "
    "сделай для неё хотя бы одно действие до вечера. Сохрани это видео, подпишись и начни прямо сейчас."
)
# A 110-word script (about 40 s), read back by Whisper to measure each Russian voice.
RU_SCRIPT = (
    "Каждое утро ты решаешь, каким будет твой день. Просыпайся на полчаса раньше и не хватай "
    "телефон. Выпей стакан чистой воды, открой окно и сделай короткую зарядку. Запиши три задачи, которые "
    "сегодня действительно важны, и начни с самой трудной. Не жди вдохновения, оно приходит во время "
    "работы. Если день не задался, не ругай себя, а просто сделай следующий маленький шаг. Вечером "
    "подведи итоги и отметь, что получилось. Через месяц такие привычки изменят твою энергию, "
    "настроение и результаты. Успешные люди не сильнее тебя, они просто повторяют простые действия "
    "каждый день. Начни уже завтра утром и проверь всё сам. Сохрани это видео, подпишись на канал и напиши "
    "в комментариях, с чего ты начнёшь."
)
RU_VOICES = ("rhvoice-anna", "rhvoice-aleksandr-hq", "festival-ru")

EN_TEXT = (
    "Stop for a second and ask yourself what you really want. Big changes start with one small step "
    "you take today. Do not wait for the perfect moment, because it never comes. Every day you choose "
    "who you will be a year from now. Discipline beats motivation, because it still works on the bad "
    "days. Save this video, follow for more and start right now."
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url, body, content_type="application/json"):
    return post_with_headers(url, body, content_type)[0]


def post_with_headers(url, body, content_type="application/json"):
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=900) as response:
        return response.read(), response.headers


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def duration(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
                         capture_output=True, text=True, check=True)
    return float(out.stdout)


def multipart(fields, file_bytes):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n'.encode() + file_bytes + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def words_of(text):
    cleaned = "".join(c if c.isalnum() or c.isspace() else " " for c in text.lower().replace("ё", "е"))
    return cleaned.split()


def word_errors(reference, heard):
    """Word-level Levenshtein distance between the reference and what was heard."""
    ref, hyp = words_of(reference), words_of(heard)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (r != h))
    return row[len(hyp)]


# The voice step re-voices at another speed to fit the target duration, so a voice is heard at
# more than its own pace; one reading also swings by a word or two with any small change in the
# audio, so the pooled rate over these speeds is the steadier figure.
READBACK_SPEEDS = (0.9, 0.95, 1.0, 1.05, 1.1)


def voice_rows(base):
    """Each Russian voice speaks the 110-word script at each speed; Whisper base reads it back."""
    rows = []
    reference_words = len(words_of(RU_SCRIPT))
    for voice in RU_VOICES:
        errors = {}
        for speed in READBACK_SPEEDS:
            started = time.time()
            wav = post(f"{base}/v1/audio/speech", json.dumps({"input": RU_SCRIPT, "voice": voice, "speed": speed, "response_format": "wav"}).encode())
            spent = time.time() - started
            path = f"/tmp/reelforge-bench-{voice}-{speed}.wav"
            open(path, "wb").write(wav)
            if speed == 1.0:
                seconds, own_pace_spent = duration(path), spent
            body, content_type = multipart({"model": "whisper-base", "language": "ru", "response_format": "verbose_json"}, wav)
            heard = json.loads(post(f"{base}/v1/audio/transcriptions", body, content_type))
            errors[speed] = word_errors(RU_SCRIPT, heard["text"])
        pooled = sum(errors.values()) / (reference_words * len(READBACK_SPEEDS))
        by_speed = ", ".join(f"{speed}: {100 * count / reference_words:.1f}%" for speed, count in errors.items())
        rows.append((voice, f"{reference_words} words, {seconds:.1f} s", f"{100 * errors[1.0] / reference_words:.1f}%", f"{pooled * 100:.1f}% ({by_speed})", f"{own_pace_spent / seconds:.3f}"))
    return rows


def main():
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "engines/server.py", "--port", str(port)], stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        rows = []
        audio = {}
        for language, text in (("ru", RU_TEXT), ("en", EN_TEXT)):
            started = time.time()
            wav, headers = post_with_headers(f"{base}/v1/audio/speech", json.dumps({"input": text, "response_format": "wav"}).encode())
            spent = time.time() - started
            path = f"/tmp/reelforge-bench-{language}.wav"
            open(path, "wb").write(wav)
            seconds = duration(path)
            audio[language] = (path, seconds)
            voice = f"the default voice, {headers.get('X-Voice')}"
            rows.append((f"TTS {language}, {voice}: {len(text.split())} words", f"{spent:.2f} s for {seconds:.1f} s of speech", f"RTF {spent / seconds:.3f}", "≤ 0.2", f"{peak_rss_mb(server.pid):.0f} MB"))
        # The model loads on the first call; a warm-up keeps that out of the real-time factor.
        body, content_type = multipart({"model": "whisper-base", "language": "ru", "response_format": "verbose_json"}, open(audio["ru"][0], "rb").read())
        started = time.time()
        post(f"{base}/v1/audio/transcriptions", body, content_type)
        cold = time.time() - started
        started = time.time()
        heard = json.loads(post(f"{base}/v1/audio/transcriptions", body, content_type))
        spent = time.time() - started
        rows.append((f"ASR ru, Whisper base int8, 2 threads: {audio['ru'][1]:.1f} s of speech ({len(heard['words'])} words heard)", f"{spent:.2f} s warm ({cold:.2f} s with model load)", f"RTF {spent / audio['ru'][1]:.3f}", "≤ 0.5", f"{peak_rss_mb(server.pid):.0f} MB"))
        system = ("You write voiceover scripts for short vertical videos. Write in Russian. Between 100 and 120 words. "
                  "Plain spoken text only: no emoji, no markdown. End with a call to action.")
        started = time.time()
        answer = json.loads(post(f"{base}/v1/chat/completions", json.dumps({
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": "Transcript:\n" + heard["text"] + "\n\nWrite the new script."}],
            "max_tokens": 1024, "temperature": 0.8, "seed": 1}).encode()))
        spent = time.time() - started
        usage = answer.get("usage", {})
        words = len(answer["choices"][0]["message"]["content"].split())
        rows.append((f"script generation, Qwen2.5-Coder-1.5B Q4_K_M, cold (model load included): {words} words, {usage.get('completion_tokens')} tokens", f"{spent:.1f} s", f"{usage.get('completion_tokens', 0) / spent:.1f} tokens/s overall", "< 60 s", f"{peak_rss_mb(server.pid):.0f} MB"))
        print("| measure | wall time | rate | target | engine peak RSS so far |")
        print("|---|---|---|---|---|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        print()
        print("| Russian voice (Whisper base reads it back) | script at its own pace | word error rate at its own pace (target ≤ 5%) | pooled over speeds 0.9-1.1 (each speed) | synthesis RTF (target ≤ 0.1) |")
        print("|---|---|---|---|---|")
        for row in voice_rows(base):
            print("| " + " | ".join(row) + " |")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
