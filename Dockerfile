# syntax=docker/dockerfile:1

# Container image of guestissuer: a release build in a Rust image, copied
# into a distroless runtime image that runs as a non-root user, has no
# shell, and holds no secret. Configure it with GUESTISSUER__SECTION__KEY
# environment variables and mounted secret files (issuer.secret_file);
# docs/operations.md has the details.

# Build stage. The toolchain version matches the one CI tests with.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /build

# Dependency layer: compile every dependency from the manifest and lock
# file alone against empty sources, so that a source change reuses it.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src

# Source layer. touch makes cargo rebuild the crate even when the copied
# files are older than the placeholder build above.
COPY config ./config
COPY openapi.yaml ./
COPY src ./src
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && mkdir -p /state

# Runtime stage: glibc and CA certificates only, user nonroot (65532).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /build/target/release/guestissuer /usr/local/bin/guestissuer
# Writable home of service_app.state_file, owned by the runtime user, so a
# volume mounted there keeps the Service App tokens across restarts.
COPY --from=build --chown=65532:65532 /state /var/lib/guestissuer

# Listen on every interface inside the container; the built-in default is
# loopback only. /metrics stays on the API port unless
# GUESTISSUER__METRICS__LISTEN names another address.
ENV GUESTISSUER__SERVER__LISTEN=0.0.0.0:8080 \
    GUESTISSUER__EMULATOR__LISTEN=0.0.0.0:8081

USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/guestissuer", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/guestissuer"]
CMD ["serve"]
