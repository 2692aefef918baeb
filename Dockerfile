# Multi-stage build: compile in the Rust image, run in a slim Debian with only the binary.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs rustfmt.toml ./
COPY migration migration
COPY src src
COPY benches benches
RUN cargo build --release --locked --bin kaohe

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/kaohe --create-home kaohe
COPY --from=build /src/target/release/kaohe /usr/local/bin/kaohe
USER kaohe
WORKDIR /var/lib/kaohe
ENV KAOHE__SERVER__HOST=0.0.0.0 \
    KAOHE__SERVER__PORT=8080 \
    KAOHE__LOG__FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["kaohe"]
CMD ["serve"]
