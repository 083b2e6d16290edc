# certwarden as a container: the CLI is the entry point, the files to scan are mounted at /src.
#   docker build -t certwarden .
#   docker run --rm -v "$PWD:/src" certwarden scan infra -o sarif=certwarden.sarif
# Two stages: the wheel is built in the first, so the image holds no build tools or sources.
FROM python:3.11-slim AS build
WORKDIR /build
COPY pyproject.toml README.md LICENSE ./
COPY scanner scanner
COPY rules rules
COPY docs/rules docs/rules
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --create-home --uid 10001 certwarden
# Not root: a scan only reads (and `fix --write` writes the mounted files the user may write).
USER certwarden
WORKDIR /src
ENTRYPOINT ["certwarden"]
CMD ["--help"]
