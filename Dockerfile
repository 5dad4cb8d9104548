# The genesys-sim app (effect sink + control API); see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY . .
RUN pip install . \
    && useradd --system --no-create-home genesys
USER genesys

EXPOSE 8080
# Inside a container the app must bind all interfaces to be reachable at all, so it
# needs GENESYS_SIM_API_TOKEN in its environment (it refuses to start without one);
# compose passes it and publishes the port on the host's loopback only.
CMD ["genesys-sim", "serve", "--host", "0.0.0.0", "--port", "8080"]
