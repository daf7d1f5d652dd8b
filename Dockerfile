# smcluster training image for SageMaker (bring your own container).
#
#   GPU (default): RAPIDS' CUDA 12 pip wheels at the project's pins, on a Python >= 3.11 base
#                  (V100, T4, A10G, L4, A100, H100; host driver >= 535); umap-learn too, so the
#                  CPU path runs where no GPU is present.
#       make image          # docker build -t smcluster:<version>-gpu .
#   CPU:           the same base, the `cpu` extras.
#       make image-cpu      # --build-arg VARIANT=cpu
#   GPU on RAPIDS: the RAPIDS base image's own cuDF/cuML (pins not honoured: the base's win).
#       make image-rapids   # --build-arg VARIANT=gpu-rapids --build-arg BASE_IMAGE=nvcr.io/...
#
# docker/install_package.py decides where and how to install (see its docstring): the gpu-rapids
# variant never reinstalls or upgrades a package of the RAPIDS base. Nothing is written under
# /opt/ml, which SageMaker mounts at run time.
#
# Every metadata instruction comes before the one RUN, so that RUN's layer is the only large one
# and no later instruction copies it (the legacy builder with the vfs driver copies the whole
# root filesystem per instruction). VERSION and GIT_REVISION do not cost cache hits: the source
# COPY changes with every commit anyway.
ARG BASE_IMAGE=python:3.12-slim-bookworm
FROM ${BASE_IMAGE}

ARG BASE_IMAGE VARIANT=gpu VERSION=unknown GIT_REVISION=unknown
LABEL org.opencontainers.image.title="smcluster" \
      org.opencontainers.image.description="SageMaker training image: clusters large tables (UMAP + DBSCAN) on the GPU (RAPIDS) or the CPU" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${GIT_REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${BASE_IMAGE}" \
      ai.smcluster.variant="${VARIANT}"
# /opt/venv exists only where the base's Python may not be installed into (see install_package.py).
# MPLCONFIGDIR: matplotlib's font list, built once below; in its default place (~/.cache) every
# container built it again at the first plot (60 ms of each job's fixed cost).
ENV PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    MPLCONFIGDIR=/opt/matplotlib
# tini is PID 1: it forwards SIGTERM/SIGINT to the job and reaps children. A Python PID 1 would
# ignore a SIGTERM that arrives before its handler is installed (the kernel drops signals with a
# default action for PID 1), and the job would run on to completion.
ENTRYPOINT ["/usr/local/bin/tini", "--", "/usr/local/bin/smcluster-entrypoint"]
CMD ["train"]
# The RAPIDS base runs as an unprivileged user; SageMaker mounts /opt/ml owned by root and the job
# must write /opt/ml/model and /opt/ml/output. Numeric 0 (root): no name lookup needed.
# hadolint ignore=DL3002
USER 0

COPY . /tmp/smcluster-src/
# The cpu and gpu variants then fill numba's cache for umap-learn (smcluster.backends.numba_cache): a job
# on the same CPU model skips ~10 s of compiling; on another model numba compiles as before.
# tini from the base when it has one, else Debian's or Ubuntu's package (its version is the
# distribution's: tini has no pip or conda-independent pin that works on every base).
# hadolint ignore=DL3008
RUN if ! command -v tini >/dev/null 2>&1; then \
        apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tini \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && { [ -x /usr/local/bin/tini ] || ln -s "$(command -v tini)" /usr/local/bin/tini; } \
    && PIP_NO_CACHE_DIR=1 python3 /tmp/smcluster-src/docker/install_package.py --variant "${VARIANT}" /tmp/smcluster-src \
    && if [ "${VARIANT}" != gpu-rapids ]; then python3 -m smcluster.backends.numba_cache --for-image; fi \
    && python3 -c "import matplotlib.font_manager" \
    && install -m 0755 /tmp/smcluster-src/docker/entrypoint.sh /usr/local/bin/smcluster-entrypoint \
    && rm -rf /tmp/smcluster-src /root/.cache
