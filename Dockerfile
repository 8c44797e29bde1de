# Build stage: compile the release binary with the locked dependencies.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends pkg-config && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
COPY web web
COPY benches benches
RUN cargo build --release --locked --bin reelforge

# Runtime stage: the binary plus ffmpeg (the local composer and media probing need it).
FROM debian:bookworm-slim
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
